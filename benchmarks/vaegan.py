"""VAE against VAE-GAN on the digits: sharpness and fidelity of samples, held-out ELBO.

Both models get the same settings and seed. A judge, an MLPClassifier
trained on the real training digits, measures what they generate:
``confidence``, the mean max-class probability it gives generated digits
(sharp, digit-like samples score high; blurry blends of classes low),
``sharpness``, the mean magnitude of the images' spatial gradient (blurred
strokes change slowly and score low; no judge needed), and ``frechet``, the Frechet distance between its hidden-layer features of the
held-out real digits and of as many generated ones (lower is closer to the
data), for prior samples and for reconstructions of the held-out digits
(``frechet_recon``). ``test_elbo`` is ``score`` on the held-out digits (nats;
the adversarial terms may cost some). The "real digits" row measures the
held-out digits themselves (its frechet: training against held-out digits),
the scale to read the others on.

Run: python benchmarks/vaegan.py [--output DIR] [--quick] [--epochs N] [--seeds N]
Writes DIR/vaegan.csv (default benchmarks/results) and prints a markdown table.

``--tables`` instead checks the VAE-GAN on two small real tables
(load_diabetes, load_wine as DataFrames, the estimators' defaults, seed 0):
the largest shift of a column's sample mean, and the largest root mean
squared reconstruction error of a column, in the column's standard
deviations, against the VAE's (about a minute; prints only).
"""

import argparse
import time
import warnings
from pathlib import Path

import numpy as np
import pandas as pd
from scipy import linalg
from sklearn.datasets import load_digits
from sklearn.model_selection import train_test_split
from sklearn.neural_network import MLPClassifier

from skvae import VAEGANTransformer, VAETransformer

DEFAULT_OUTPUT = Path(__file__).resolve().parent / "results"  # the documented run passes --output docs/benchmark
LATENT_DIM = 8


def fit_judge(X_train, y_train, quick=False):
    """The judge: an MLPClassifier((64,)) fitted on real training images."""
    judge = MLPClassifier((64,), max_iter=20 if quick else 1000, random_state=0)
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        return judge.fit(X_train, y_train)


def sharpness(X, image_shape):
    """Mean magnitude of the spatial gradient of rows X seen as images (central differences, per pixel)."""
    images = np.asarray(X, dtype=float).reshape(-1, *image_shape)
    d_row, d_col = np.gradient(images, axis=(1, 2))
    return float(np.sqrt(d_row**2 + d_col**2).mean())


def judge_features(judge, X):
    """The judge's hidden-layer activations (ReLU) of rows X."""
    return np.maximum(X @ judge.coefs_[0] + judge.intercepts_[0], 0)


def frechet_distance(a, b):
    """Frechet distance between Gaussians fitted to the rows of a and of b."""
    mean_a, mean_b = a.mean(0), b.mean(0)
    cov_a, cov_b = np.cov(a, rowvar=False), np.cov(b, rowvar=False)
    with warnings.catch_warnings():
        # Singular where the judge has a dead ReLU unit (0 in both sets: it adds nothing to the
        # distance) or the sets have fewer rows than features; the root is right either way.
        warnings.simplefilter("ignore", linalg.LinAlgWarning)
        root = linalg.sqrtm(cov_a @ cov_b).real
    return float(((mean_a - mean_b) ** 2).sum() + np.trace(cov_a + cov_b - 2 * root))


def measure(judge, X_train, X_test, generated, reconstructed, image_shape=(8, 8)):
    real = judge_features(judge, X_test)
    return {
        "confidence": float(judge.predict_proba(generated).max(1).mean()),
        "sharpness": sharpness(generated, image_shape),
        "frechet": frechet_distance(real, judge_features(judge, generated)),
        "frechet_recon": frechet_distance(real, judge_features(judge, reconstructed)),
    }


def markdown(frame):
    """A markdown table of ``frame`` (numbers to 3 decimals), without tabulate."""
    cells = [[f"{v:.3f}" if isinstance(v, float) else str(v) for v in row] for row in frame.itertuples(index=False)]
    lines = ["| " + " | ".join(frame.columns) + " |", "|" + "---|" * len(frame.columns)]
    return "\n".join(lines + ["| " + " | ".join(row) + " |" for row in cells])


def main():
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--output", type=Path, default=DEFAULT_OUTPUT)
    parser.add_argument("--quick", action="store_true", help="tiny smoke run (seconds)")
    parser.add_argument("--epochs", type=int, default=200, help="max_iter (default: the estimators' own)")
    parser.add_argument("--seeds", type=int, default=1)
    parser.add_argument("--tables", action="store_true", help="the marginals check on two tables")
    args = parser.parse_args()
    warnings.filterwarnings("ignore", message=".*maximum iterations.*")
    if args.tables:
        return tables()

    X, y = load_digits(return_X_y=True)
    X = X / 16
    if args.quick:
        X, y = X[:200], y[:200]
    X_train, X_test, y_train, y_test = train_test_split(X, y, stratify=y, random_state=0)
    judge = fit_judge(X_train, y_train, args.quick)

    params = {"likelihood": "bernoulli", "max_iter": args.epochs}
    if args.quick:
        params.update(hidden_layer_sizes=(16,), max_iter=1)
    rows = [{
        "method": "real digits", "seed": 0, "fit_s": 0.0, "test_elbo": np.nan,
        **measure(judge, X_train, X_test, X_train[: len(X_test)], X_test),
    }]
    for seed in range(args.seeds):
        for method, Estimator in (("VAE", VAETransformer), ("VAE-GAN", VAEGANTransformer)):
            model = Estimator(LATENT_DIM, random_state=seed, **params)
            start = time.perf_counter()
            model.fit(X_train)
            fit_s = time.perf_counter() - start
            generated = model.sample(len(X_test), random_state=seed)
            reconstructed = model.inverse_transform(model.transform(X_test))
            rows.append({
                "method": method, "seed": seed, "fit_s": fit_s, "test_elbo": model.score(X_test),
                **measure(judge, X_train, X_test, generated, reconstructed),
                **{f"d_acc_{k}": v for k, v in getattr(model, "discriminator_accuracy_", {}).items()},
            })

    results = pd.DataFrame(rows)
    args.output.mkdir(parents=True, exist_ok=True)
    results.to_csv(args.output / "vaegan.csv", index=False)
    summary = results.groupby("method", sort=False)[
        ["confidence", "sharpness", "frechet", "frechet_recon", "test_elbo", "fit_s"]
    ].mean()
    print(f"load_digits / 16, {len(X_train)} train, {len(X_test)} held out, latent_dim={LATENT_DIM}, "
          f"{params['max_iter']} epochs, {args.seeds} seed(s); judge accuracy on held-out digits "
          f"{judge.score(X_test, y_test):.3f}")
    print(markdown(summary.reset_index()))


def tables():
    """The VAE-GAN's marginals on tables, which its defaults (chosen on digits) were never judged on."""
    from sklearn.datasets import load_diabetes, load_wine

    print("| table | method | max mean shift of samples (std) | max reconstruction RMSE (std) |")
    print("|---|---|---:|---:|")
    for name, loader in (("diabetes", load_diabetes), ("wine", load_wine)):
        X = loader(as_frame=True).data
        for method, model in (("VAE", VAETransformer(random_state=0)), ("VAE-GAN", VAEGANTransformer(random_state=0)),
                              ("VAE-GAN, adversarial_weight=0.1",
                               VAEGANTransformer(adversarial_weight=0.1, random_state=0))):
            with warnings.catch_warnings():
                warnings.simplefilter("ignore")
                model.fit(X)
            shift = ((model.sample(3000, random_state=0).mean() - X.mean()) / X.std()).abs().max()
            error = (((model.inverse_transform(model.transform(X)) - X) ** 2).mean() ** 0.5 / X.std()).max()
            print(f"| {name} | {method} | {shift:.2f} | {error:.2f} |")


if __name__ == "__main__":
    main()
