"""Record, or compare against, what today's estimators compute on fixed configurations.

A restructuring must not change results: this script fits a set of
configurations (both estimators, both likelihoods, early stopping, free
bits, isotropic noise, no shuffling, warm starts, partial_fit) and stores
every loss curve, transform, reconstruction, score and sample. Record
before a change, compare after it:

    python benchmarks/fingerprint.py record /tmp/before.npz
    python benchmarks/fingerprint.py compare /tmp/before.npz          # bitwise
    python benchmarks/fingerprint.py compare /tmp/before.npz --rtol 1e-5

Results are bitwise reproducible only for the same machine and number of
torch threads, so record and compare in one place.
"""

import argparse
import sys
import warnings

import numpy as np
from sklearn.datasets import load_digits
from sklearn.exceptions import ConvergenceWarning

from skvae import AutoencoderTransformer, VAETransformer


def _tabular():
    rng = np.random.RandomState(0)
    latent = rng.normal(size=(300, 3))
    X = latent @ rng.normal(size=(3, 6)) + 0.3 * rng.normal(size=(300, 6))
    return X * np.array([1e-3, 1.0, 10.0, 1e3, 5.0, 0.1]) + np.array([0, 5, -3, 1e4, 0, 2])


def _digits():
    return load_digits().data[:400] / 16.0


CONFIGURATIONS = {
    "vae_gaussian": (VAETransformer, "tabular", dict(hidden_layer_sizes=(16,), max_iter=15)),
    "vae_bernoulli_free_bits": (
        VAETransformer, "digits",
        dict(latent_dim=4, likelihood="bernoulli", hidden_layer_sizes=(32, 16), free_bits=0.5, max_iter=12),
    ),
    "vae_isotropic_early_stopping": (
        VAETransformer, "tabular",
        dict(hidden_layer_sizes=(), noise_variance="isotropic", early_stopping=True, max_iter=20),
    ),
    "vae_beta_warmup_tanh": (
        VAETransformer, "tabular",
        dict(latent_dim=3, activation="tanh", beta=2.0, kl_warmup=3, batch_size=64, max_iter=10),
    ),
    "ae_gaussian_no_shuffle": (
        AutoencoderTransformer, "tabular",
        dict(latent_dim=3, hidden_layer_sizes=(16, 8), shuffle=False, max_iter=15),
    ),
    "ae_bernoulli_early_stopping_logistic": (
        AutoencoderTransformer, "digits",
        dict(latent_dim=4, likelihood="bernoulli", activation="logistic", early_stopping=True, max_iter=12),
    ),
}


def fingerprint():
    data = {"tabular": _tabular(), "digits": _digits()}
    out = {}
    for name, (Estimator, dataset, params) in CONFIGURATIONS.items():
        X = data[dataset]
        est = Estimator(random_state=0, **params).fit(X)
        out.update(_outputs(f"{name}/fit", est, X))
        est.set_params(warm_start=True).fit(X)
        out[f"{name}/warm_start/loss_curve"] = np.array(est.loss_curve_)
        est.partial_fit(X)
        out.update(_outputs(f"{name}/continued", est, X))
        partial = Estimator(random_state=0, **params)
        for _ in range(3):
            partial.partial_fit(X)
        out.update(_outputs(f"{name}/partial_fit", partial, X))
    return out


def _outputs(prefix, est, X):
    Z = est.transform(X)
    out = {
        "loss_curve": np.array(est.loss_curve_),
        "transform": Z,
        "transform_float32": est.transform(X.astype(np.float32)),
        "inverse_transform": est.inverse_transform(Z),
        "score_samples": est.score_samples(X),
        "sample": est.sample(5, random_state=0),
    }
    if est.validation_scores_ is not None:
        out["validation_scores"] = np.array(est.validation_scores_)
    if isinstance(est, VAETransformer):
        out["iwae5"] = est.score_samples(X, n_importance=5)
        out["kl_per_dim"] = est.kl_per_dim_
        if est.noise_variance_ is not None:
            out["noise_variance"] = est.noise_variance_
    else:
        out["latent_mean"] = est.latent_mean_
        out["latent_covariance"] = est.latent_covariance_
    return {f"{prefix}/{key}": value for key, value in out.items()}


def main(argv=None):
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("action", choices=["record", "compare"])
    parser.add_argument("path")
    parser.add_argument("--rtol", type=float, default=0.0, help="0: bitwise")
    parser.add_argument("--atol", type=float, default=0.0)
    args = parser.parse_args(argv)
    warnings.simplefilter("ignore", ConvergenceWarning)
    current = fingerprint()
    if args.action == "record":
        np.savez(args.path, **current)
        print(f"recorded {len(current)} arrays to {args.path}")
        return 0
    reference = dict(np.load(args.path))
    failures = 0
    for key in sorted(reference.keys() | current.keys()):
        if key not in reference or key not in current:
            print(f"MISSING {key}")
            failures += 1
            continue
        a, b = reference[key], current[key]
        if a.shape != b.shape:
            print(f"SHAPE {key}: {a.shape} vs {b.shape}")
            failures += 1
        elif args.rtol == 0 and args.atol == 0:
            if not np.array_equal(a, b):
                diff = np.max(np.abs(a - b) / np.maximum(np.abs(a), 1e-30))
                print(f"DIFFERS {key}: max relative difference {diff:.3g}")
                failures += 1
        elif not np.allclose(a, b, rtol=args.rtol, atol=args.atol):
            diff = np.max(np.abs(a - b) / np.maximum(np.abs(a), 1e-30))
            print(f"DIFFERS {key}: max relative difference {diff:.3g}")
            failures += 1
    kind = "bitwise" if args.rtol == 0 and args.atol == 0 else f"rtol={args.rtol}, atol={args.atol}"
    print(f"{len(reference)} arrays compared ({kind}): {failures} differ")
    return 1 if failures else 0


if __name__ == "__main__":
    sys.exit(main())
