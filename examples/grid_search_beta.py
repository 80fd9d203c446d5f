"""Choosing the VAE's beta with GridSearchCV and no scorer.

GridSearchCV(VAETransformer(...), {"beta": [...]}) ranks each beta by the
estimator's own score, the mean held-out ELBO (always with beta=1, the true
bound). Beside it: how well a kNN classifier does on mu(x) for each beta.
"""

from _common import SEED, digits, model_params, plt, save, setup
from sklearn.base import clone
from sklearn.model_selection import GridSearchCV, train_test_split
from sklearn.neighbors import KNeighborsClassifier

from skvae import VAETransformer

BETAS = [0.25, 0.5, 1.0, 2.0, 4.0]


def main():
    output, quick = setup(__doc__)
    X, y = digits(quick)
    X_train, X_test, y_train, y_test = train_test_split(X, y, stratify=y, random_state=SEED)

    vae = VAETransformer(latent_dim=8, likelihood="bernoulli", **model_params(quick, max_iter=40))
    # No scoring=...: GridSearchCV calls vae.score, the held-out ELBO. The
    # loop below fits every beta on X_train anyway, so refitting the best is
    # left out.
    search = GridSearchCV(vae, {"beta": BETAS}, cv=3, refit=False)
    search.fit(X_train)
    elbo = search.cv_results_["mean_test_score"]
    elbo_std = search.cv_results_["std_test_score"]
    best_beta = search.best_params_["beta"]

    # Labels play no part in choosing beta; they only judge the codes after.
    accuracy = []
    for beta in BETAS:
        model = clone(vae).set_params(beta=beta).fit(X_train)
        knn = KNeighborsClassifier().fit(model.transform(X_train), y_train)
        accuracy.append(knn.score(model.transform(X_test), y_test))

    print("  beta  CV ELBO (nats)  kNN accuracy on mu(x)")
    for beta, mean, std, acc in zip(BETAS, elbo, elbo_std, accuracy):
        print(f"{beta:>6}  {mean:>7.2f} +- {std:.2f}  {acc:>21.3f}")
    print(f"best beta by CV ELBO: {best_beta}")

    fig, (ax_elbo, ax_acc) = plt.subplots(1, 2, figsize=(10, 4.2), layout="constrained")
    ax_elbo.errorbar(BETAS, elbo, yerr=elbo_std, marker="o", capsize=3)
    ax_elbo.axvline(best_beta, color="grey", linestyle="--", label=f"best beta = {best_beta:g}")
    ax_elbo.set_ylabel("mean held-out ELBO per digit (nats)")
    ax_elbo.set_title("GridSearchCV, no scorer: 3-fold mean ± 1 s.d.")
    ax_elbo.legend()
    ax_acc.plot(BETAS, accuracy, marker="s", color="tab:green")
    ax_acc.set_ylabel("held-out accuracy")
    ax_acc.set_title("5-nearest-neighbours on mu(x), test split")
    for ax in (ax_elbo, ax_acc):
        ax.set_xscale("log", base=2)
        ax.set_xticks(BETAS, [f"{beta:g}" for beta in BETAS])
        ax.set_xlabel("beta (weight of the KL term in training)")
        ax.grid(alpha=0.3)
    fig.suptitle(f"VAE, latent_dim=8, on digits ({len(X_train)} train, {len(X_test)} test rows)")
    save(fig, output, __file__)


if __name__ == "__main__":
    main()
