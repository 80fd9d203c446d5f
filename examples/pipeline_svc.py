"""A VAE as the feature step of a classifier pipeline, beside PCA.

Pipeline([("vae", VAETransformer(...)), ("clf", SVC())]) on the digits: held-out
accuracy of an SVC on the codes mu(x) against the same pipeline on PCA, for a
few latent dimensions, with free bits against posterior collapse (the default,
``free_bits=0.5``) and without (``free_bits=0``).
"""

from _common import SEED, digits, model_params, plt, save, setup
from sklearn.decomposition import PCA
from sklearn.model_selection import train_test_split
from sklearn.pipeline import Pipeline
from sklearn.svm import SVC

from skvae import VAETransformer

LATENT_DIMS = (2, 4, 8, 16)


def main():
    output, quick = setup(__doc__)
    X, y = digits(quick)
    X_train, X_test, y_train, y_test = train_test_split(X, y, stratify=y, random_state=SEED)

    params = model_params(quick, max_iter=60)
    # Without free bits (free_bits=0; 0.5 is the default) a Bernoulli VAE on
    # the digits leaves some latent dimensions unused (posterior collapse):
    # their mu(x) is the same for every row, so a wider code stops buying accuracy.
    vae_no_free_bits = VAETransformer(latent_dim=8, likelihood="bernoulli", free_bits=0.0, **params)
    vae = VAETransformer(latent_dim=8, likelihood="bernoulli", **params)
    pipelines = {
        "VAE, free_bits=0": Pipeline([("vae", vae_no_free_bits), ("clf", SVC())]),
        "VAE (free_bits=0.5)": Pipeline([("vae", vae), ("clf", SVC())]),
        "PCA": Pipeline([("pca", PCA(8)), ("clf", SVC())]),
    }
    accuracy = {name: [] for name in pipelines}
    print("latent_dim  pipeline + SVC        accuracy  active units")
    for dim in LATENT_DIMS:
        for name, pipe in pipelines.items():
            step = "pca__n_components" if "pca" in pipe.named_steps else "vae__latent_dim"
            pipe.set_params(**{step: dim}).fit(X_train, y_train)
            accuracy[name].append(pipe.score(X_test, y_test))
            active = getattr(pipe[0], "n_active_units_", "-")  # PCA has no such notion
            print(f"{dim:>10}  {name:<20} {accuracy[name][-1]:>9.3f}  {active:>12}")

    fig, ax = plt.subplots(figsize=(6, 4.2), layout="constrained")
    for name, marker in zip(pipelines, "o^s"):
        ax.plot(LATENT_DIMS, accuracy[name], marker=marker, label=f"{name} + SVC")
    ax.set_xscale("log", base=2)
    ax.set_xticks(LATENT_DIMS, [str(dim) for dim in LATENT_DIMS])
    ax.set_xlabel("latent dimension (VAE latent_dim, PCA n_components)")
    ax.set_ylabel("held-out accuracy")
    ax.set_title(f"Digits: SVC on {len(X_train)} training rows, {len(X_test)} test rows")
    ax.legend(loc="lower right")
    ax.grid(alpha=0.3)
    save(fig, output, __file__)


if __name__ == "__main__":
    main()
