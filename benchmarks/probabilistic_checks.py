"""The VAE's probabilistic claims, measured: linear models, posterior collapse, beta search.

A linear VAE with Gaussian noise is probabilistic PCA (noise shared by all
features) or factor analysis (one noise variance per feature), and its ELBO
optimum is their maximum-likelihood solution (Tipping & Bishop 1999; Lucas et
al. 2019). On data drawn from such a model this prints, per sample on
held-out rows: skvae's ELBO and importance-weighted bound, the closed-form
log-likelihood of the model skvae learned, the reference's score, and the
true model's log-likelihood, and the bounds of a briefly trained model
against its exact log-likelihood. Then, on load_digits in [0, 1] with
latent_dim=8: active units and SVC accuracy on mu(x) for the defaults, for
free bits, and for the tutorial loss scaling that collapses the posterior.
Last, GridSearchCV over beta with no scorer on 150 digits, where a small
beta overfits: the cross-validated scores and the held-out ELBO of each beta.

    python benchmarks/probabilistic_checks.py
"""

import warnings

import numpy as np
import torch
from scipy.stats import multivariate_normal
from sklearn.datasets import load_digits
from sklearn.decomposition import PCA, FactorAnalysis
from sklearn.exceptions import ConvergenceWarning
from sklearn.model_selection import GridSearchCV, train_test_split
from sklearn.svm import SVC

from skvae import VAETransformer
from skvae.nn.latents import kl_to_standard_normal


def linear_gaussian(noise_variance, n_samples=4000, n_features=8, n_components=2, seed=0):
    """Rows of x = W z + mean + noise with features of very different scales.

    ``"isotropic"``: one noise variance for every feature (probabilistic PCA's
    model). ``"per_feature"``: noise from 1% to 100% of each feature's scale
    (factor analysis's model). Returns train rows, test rows, and the true
    distribution.
    """
    rng = np.random.RandomState(seed)
    scales = 10.0 ** rng.uniform(-2, 2, size=n_features)
    W = rng.normal(size=(n_features, n_components)) * scales[:, None]
    mean = 3 * rng.normal(size=n_features) * scales
    if noise_variance == "isotropic":
        psi = np.full(n_features, (0.3 * np.median(scales)) ** 2)
    else:
        psi = (scales * 10.0 ** rng.uniform(-1, 0, size=n_features)) ** 2
    truth = multivariate_normal(mean, W @ W.T + np.diag(psi))
    X = truth.rvs(size=n_samples, random_state=rng)
    return X[: n_samples // 2], X[n_samples // 2 :], truth


def linear_vae(noise_variance, **params):
    """A linear VAE with a training budget that reaches the reference's optimum."""
    training = dict(learning_rate_init=1e-2, max_iter=400, n_iter_no_change=30, random_state=0)
    return VAETransformer(
        2, hidden_layer_sizes=(), noise_variance=noise_variance, **{**training, **params}
    )


def decoder_in_input_units(vae):
    """Loadings W, offset b and noise variances of the linear decoder, in the units of X."""
    (layer,) = vae.network_.decoder.layers
    loc, scale = vae.network_.columns.standardisation()
    W = layer.weight.detach().double().numpy() * scale[:, None]
    b = layer.bias.detach().double().numpy() * scale + loc
    return W, b, vae.noise_variance_


def exact_log_likelihood(vae, X):
    """log p(x) of a linear-Gaussian VAE in closed form: N(b, W W^T + diag(psi))."""
    W, b, psi = decoder_in_input_units(vae)
    return multivariate_normal(b, W @ W.T + np.diag(psi)).logpdf(X)


class TutorialScalingVAE(VAETransformer):
    """The common tutorial mistake: squared error averaged over features plus
    a KL summed over the batch, which outweighs the reconstruction term."""

    def _batch_loss(self, model, batch, epochs_elapsed, generator):
        x = batch.x
        mu, log_var = model.encode(x)
        z = mu + torch.randn(mu.shape, generator=generator) * torch.exp(0.5 * log_var)
        return ((model.decode(z) - x) ** 2).mean() + kl_to_standard_normal(mu, log_var).sum()


def active_units_and_accuracy(estimator, X, y):
    """Fit on 70% of the rows; SVC accuracy on mu(x) of the other 30%."""
    X_train, X_test, y_train, y_test = train_test_split(X, y, test_size=0.3, random_state=0, stratify=y)
    estimator.fit(X_train)
    classifier = SVC().fit(estimator.transform(X_train), y_train)
    return estimator.n_active_units_, classifier.score(estimator.transform(X_test), y_test)


def beta_search(n_train=150, betas=(0.25, 1, 4)):
    """GridSearchCV over beta with no scorer on a few digits, and held-out truth.

    Few rows and a roomy latent space (16): a small beta spends the codes on
    memorising the training rows. Returns the search and each beta's ELBO
    on the rows not trained on.
    """
    X = load_digits().data / 16
    order = np.random.RandomState(0).permutation(len(X))
    X_train, X_test = X[order[:n_train]], X[order[n_train:]]
    estimator = VAETransformer(latent_dim=16, likelihood="bernoulli", random_state=0)
    search = GridSearchCV(estimator, {"beta": list(betas)}, cv=3, n_jobs=2).fit(X_train)
    held_out = {beta: estimator.set_params(beta=beta).fit(X_train).score(X_test) for beta in betas}
    return search, held_out


def main():
    warnings.simplefilter("ignore", ConvergenceWarning)
    print("Held-out log-likelihood per sample (nats), linear-Gaussian data, 8 features, k=2")
    print("| noise | skvae ELBO | skvae IWAE (K=50) | exact log p(x) of skvae's model | reference | reference score | true model |")
    print("|---|---|---|---|---|---|---|")
    for noise_variance, Reference in [("isotropic", PCA), ("per_feature", FactorAnalysis)]:
        X_train, X_test, truth = linear_gaussian(noise_variance)
        vae = linear_vae(noise_variance).fit(X_train)
        print(
            f"| {noise_variance} | {vae.score(X_test):.3f} "
            f"| {vae.score_samples(X_test, n_importance=50).mean():.3f} "
            f"| {exact_log_likelihood(vae, X_test).mean():.3f} | {Reference.__name__}(2) "
            f"| {Reference(2).fit(X_train).score(X_test):.3f} | {truth.logpdf(X_test).mean():.3f} |",
            flush=True,
        )

    X_train, X_test, _ = linear_gaussian("isotropic")
    briefly_trained = linear_vae("isotropic", max_iter=3).fit(X_train)
    elbo, iwae5, iwae50 = (
        briefly_trained.score_samples(X_test, n_importance=k).mean() for k in (1, 5, 50)
    )
    exact = exact_log_likelihood(briefly_trained, X_test).mean()
    print(
        f"\nIsotropic, trained 3 epochs: ELBO {elbo:.2f} < IWAE(5) {iwae5:.2f} "
        f"< IWAE(50) {iwae50:.2f} < exact log p(x) {exact:.2f}",
        flush=True,
    )

    print("\nload_digits / 16, latent_dim=8: active units (KL > 0.01 nats) and SVC accuracy on mu(x)")
    print("| model | active units | SVC accuracy |")
    print("|---|---|---|")
    X, y = load_digits(return_X_y=True)
    models = {
        # On X / 16 (all in [0, 1]) "auto" is Bernoulli, and free_bits=0.5 is the default.
        'VAETransformer(8) (defaults: "auto", Bernoulli here)': VAETransformer(8, random_state=0),
        'likelihood="gaussian"': VAETransformer(8, likelihood="gaussian", random_state=0),
        'likelihood="bernoulli", free_bits=0': VAETransformer(8, likelihood="bernoulli", free_bits=0.0, random_state=0),
        "tutorial loss scaling (mean SE + batch-summed KL)": TutorialScalingVAE(8, random_state=0),
    }
    for name, model in models.items():
        active, accuracy = active_units_and_accuracy(model, X / 16, y)
        print(f"| {name} | {active} / 8 | {accuracy:.3f} |", flush=True)
    X_train, X_test, y_train, y_test = train_test_split(X / 16, y, test_size=0.3, random_state=0, stratify=y)
    pca = PCA(8).fit(X_train)
    print(f"| PCA(8), for reference | - | {SVC().fit(pca.transform(X_train), y_train).score(pca.transform(X_test), y_test):.3f} |")

    print("\nGridSearchCV over beta, no scorer: 150 digits, likelihood='bernoulli', latent_dim=16")
    search, held_out = beta_search()
    print("| beta | 3-fold CV score (ELBO, nats) | ELBO on the other 1647 rows |")
    print("|---|---|---|")
    for beta, cv_score in zip(search.cv_results_["param_beta"], search.cv_results_["mean_test_score"]):
        print(f"| {beta} | {cv_score:.2f} | {held_out[beta]:.2f} |")
    print(f"best beta by cross-validation: {search.best_params_['beta']}")


if __name__ == "__main__":
    import argparse

    # No options: the parser answers --help before the run (about 30 s) starts.
    argparse.ArgumentParser(description=__doc__.split("\n\n")[0]).parse_args()
    main()
