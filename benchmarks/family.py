"""The autoencoder family: conditional generation, denoising and sparsity, measured.

Three experiments, all on held-out rows:

1. **Conditional VAE.** ``ConditionalVAETransformer`` fitted on digits with
   their labels (8 x 8 with the dense networks, 28 x 28 with the
   convolutional ones); an SVC trained on the real training digits labels
   ``sample(200, y=k)`` for every class k. Target: at least 90% labelled k,
   for every k. Also what conditioning does to mu(x) as features for a
   classifier of the same labels: SVC accuracy on ``transform(X)`` (no y,
   as a Pipeline calls it) against a plain VAE's.
2. **Denoising.** Held-out rows corrupted as in training (digits: 30% of
   pixels masked to 0; breast cancer: Gaussian noise of 0.5 standard
   deviations per feature, and 30% of entries masked to the mean):
   ``inverse_transform(transform(corrupted))`` against the clean rows, for
   denoising and plain autoencoders and VAEs and for PCA; and SVC accuracy
   on mu(x) of the clean held-out rows. 5 folds.
3. **Sparsity.** ``AutoencoderTransformer(sparsity=s)`` on digits: the
   share of code entries below a tenth of their dimension's RMS, against
   reconstruction error. 3 folds.

    python benchmarks/family.py                # everything, about 25 minutes at one thread
    python benchmarks/family.py --quick        # a smoke run for the tests
    python benchmarks/family.py --only denoising sparsity

Writes ``family.csv`` (one row per experiment, method and setting) to
``benchmarks/results/`` (or ``--output``) and prints markdown tables and
the targets.
"""

import argparse
import sys
import time
import warnings
from pathlib import Path

import numpy as np
import pandas as pd
import torch
from compare_pca import digits_28x28
from sklearn.datasets import load_breast_cancer, load_digits
from sklearn.decomposition import PCA
from sklearn.exceptions import ConvergenceWarning
from sklearn.model_selection import StratifiedKFold, train_test_split
from sklearn.pipeline import make_pipeline
from sklearn.preprocessing import StandardScaler
from sklearn.svm import SVC
from threadpoolctl import threadpool_limits

from skvae import AutoencoderTransformer, ConditionalVAETransformer, VAETransformer

SEED = 0
TARGET_SHARE = 0.9
SPARSITIES = (0.0, 0.1, 0.3, 1.0, 3.0, 10.0)
QUICK = dict(max_iter=2, hidden_layer_sizes=(16,))


def _markdown(frame):
    header = "| " + " | ".join(frame.columns) + " |"
    rule = "|" + "|".join("---" for _ in frame.columns) + "|"
    rows = ["| " + " | ".join(str(v) for v in row) + " |" for row in frame.itertuples(index=False)]
    return "\n".join([header, rule, *rows])


# ----------------------------------------------------------------- 1. CVAE


def class_shares(judge, cvae, n_samples, *, from_likelihood=False, seed=SEED):
    """{class k: share of ``cvae.sample(n_samples, y=k)`` that ``judge`` labels k}, for every fitted class."""
    return {
        int(k): float((judge.predict(
            cvae.sample(n_samples, y=k, random_state=seed + int(k), from_likelihood=from_likelihood)
        ) == k).mean())
        for k in cvae.classes_
    }


def conditional(quick, log):
    """Per-class share of generated rows a classifier of real digits labels as asked."""
    digits = load_digits()
    sets = [("digits 8x8", digits.data / 16, digits.target, None)]
    if not quick:
        sets.append(("digits 28x28", *digits_28x28(), (28, 28)))
    rows = []
    for name, X, y, image_shape in sets:
        X_train, X_test, y_train, y_test = train_test_split(X, y, test_size=0.3, stratify=y, random_state=SEED)
        if quick:
            X_train, y_train = X_train[:200], y_train[:200]
        params = dict(likelihood="bernoulli", image_shape=image_shape, random_state=SEED, **(QUICK if quick else {}))
        judge = SVC().fit(X_train, y_train)
        start = time.perf_counter()
        cvae = ConditionalVAETransformer(8, **params).fit(X_train, y_train)
        fit_s = time.perf_counter() - start
        vae = VAETransformer(8, **params).fit(X_train)
        shares = class_shares(judge, cvae, 200)
        features = {
            "VAE mu(x)": vae.transform,
            "CVAE mu(x), no y": cvae.transform,
            "CVAE mu(x | y), true y": lambda A, labels=None: cvae.transform(A, labels),
        }
        accuracy = {}
        for feature, encode in features.items():
            train_codes = encode(X_train, y_train) if "true y" in feature else encode(X_train)
            test_codes = encode(X_test, y_test) if "true y" in feature else encode(X_test)
            accuracy[feature] = SVC().fit(train_codes, y_train).score(test_codes, y_test)
        rows.append(dict(
            experiment="conditional", data=name, method="ConditionalVAE", setting="latent_dim=8",
            min_class_share=min(shares.values()),
            **{f"share_{k}": v for k, v in shares.items()},
            **{f"svc_{key}": value for key, value in accuracy.items()},
            fit_s=fit_s, epochs=cvae.n_iter_,
        ))
        log(f"[conditional] {name}: per-class share {[round(v, 3) for v in shares.values()]}; "
            f"SVC on codes {({k: round(v, 3) for k, v in accuracy.items()})}; fit {fit_s:.0f}s")
    return rows


# ------------------------------------------------------------- 2. denoising


def _mask(X, share, rng, fill):
    keep = rng.rand(*X.shape) >= share
    return np.where(keep, X, fill)


def denoising(quick, log):
    digits = load_digits()
    cancer = load_breast_cancer()
    setups = [
        # data, X, y, likelihood, corruption, level, tabular
        ("digits", digits.data / 16, digits.target, "bernoulli", "masking", 0.3, False),
        ("breast_cancer", cancer.data, cancer.target, "gaussian", "gaussian", 0.5, True),
        ("breast_cancer", cancer.data, cancer.target, "gaussian", "masking", 0.3, True),
    ]
    rows = []
    n_folds = 2 if quick else 5
    for name, X, y, likelihood, corruption, level, tabular in setups:
        if quick:
            X, y = X[:200], y[:200]
        per_method = {}
        folds = StratifiedKFold(n_folds, shuffle=True, random_state=SEED).split(X, y)
        for fold, (train, test) in enumerate(folds):
            X_train, X_test = X[train], X[test]
            mean, std = X_train.mean(0), X_train.std(0)
            rng = np.random.RandomState(SEED + fold)
            # The corruption training uses, in the units it uses it in.
            if corruption == "masking":
                corrupted = _mask(X_test, level, rng, mean if tabular else 0.0)
            else:
                corrupted = X_test + level * std * rng.standard_normal(X_test.shape)
            params = dict(likelihood=likelihood, random_state=SEED, **(QUICK if quick else {}))
            methods = {
                "PCA": make_pipeline(StandardScaler(), PCA(8)) if tabular else PCA(8),
                "Autoencoder": AutoencoderTransformer(8, **params),
                "denoising Autoencoder": AutoencoderTransformer(8, corruption=corruption, corruption_level=level, **params),
                "VAE": VAETransformer(8, **params),
                "denoising VAE": VAETransformer(8, corruption=corruption, corruption_level=level, **params),
            }
            for method, model in methods.items():
                model.fit(X_train)
                error = model.inverse_transform(model.transform(corrupted)) - X_test
                if tabular:
                    error = error / std  # every feature counts the same, as in training
                svc = SVC().fit(model.transform(X_train), y[train]).score(model.transform(X_test), y[test])
                per_method.setdefault(method, []).append((float((error**2).mean()), svc))
        for method, results in per_method.items():
            mse, svc = np.array(results).T
            rows.append(dict(
                experiment="denoising", data=name, method=method,
                setting=f"{corruption} {level}", recon_mse=mse.mean(), recon_mse_std=mse.std(),
                svc_clean=svc.mean(), svc_clean_std=svc.std(),
            ))
            log(f"[denoising] {name} {corruption} {level}: {method:<22} MSE to clean {mse.mean():.4f} "
                f"± {mse.std():.4f}; SVC on clean codes {svc.mean():.3f}")
    return rows


# -------------------------------------------------------------- 3. sparsity


def sparsity(quick, log):
    X, y = load_digits(return_X_y=True)
    X = X / 16
    if quick:
        X, y = X[:200], y[:200]
    rows = []
    n_folds = 2 if quick else 3
    for value in SPARSITIES[:2] if quick else SPARSITIES:
        results = []
        for train, test in StratifiedKFold(n_folds, shuffle=True, random_state=SEED).split(X, y):
            ae = AutoencoderTransformer(8, likelihood="bernoulli", sparsity=value, random_state=SEED,
                                        **(QUICK if quick else {})).fit(X[train])
            rms = np.sqrt((ae.transform(X[train]) ** 2).mean(0))
            codes = ae.transform(X[test])
            near_zero = float((np.abs(codes) < 0.1 * rms).mean())
            mse = float(((ae.inverse_transform(codes) - X[test]) ** 2).mean())
            svc = SVC().fit(ae.transform(X[train]), y[train]).score(codes, y[test])
            results.append((near_zero, mse, svc, ae.n_iter_))
        near_zero, mse, svc, epochs = np.array(results).T
        rows.append(dict(
            experiment="sparsity", data="digits", method="Autoencoder", setting=f"sparsity={value:g}",
            sparsity=value, near_zero_share=near_zero.mean(), near_zero_share_std=near_zero.std(),
            recon_mse=mse.mean(), recon_mse_std=mse.std(), svc_clean=svc.mean(), epochs=epochs.mean(),
        ))
        log(f"[sparsity] {value:>5g}: near-zero share {near_zero.mean():.3f}, MSE {mse.mean():.4f}, "
            f"SVC {svc.mean():.3f}, epochs {epochs.mean():.0f}")
    return rows


# ------------------------------------------------------------------- report


def report(results):
    lines = []
    conditional_rows = results[results["experiment"] == "conditional"]
    if len(conditional_rows):
        shares = conditional_rows[["data", *[c for c in results.columns if c.startswith("share_")]]]
        lines += ["Share of sample(200, y=k) an SVC of real digits labels k:", "",
                  _markdown(shares.round(3).rename(columns=lambda c: c.replace("share_", "k="))), ""]
        codes = conditional_rows[["data", *[c for c in results.columns if c.startswith("svc_") and "mu(x" in c]]]
        lines += ["SVC accuracy on held-out codes (latent_dim=8):", "",
                  _markdown(codes.round(3).rename(columns=lambda c: c.replace("svc_", ""))), ""]
    denoise = results[results["experiment"] == "denoising"]
    if len(denoise):
        table = denoise.assign(
            recon=[f"{m:.4f} ± {s:.4f}" for m, s in zip(denoise["recon_mse"], denoise["recon_mse_std"])],
            svc=[f"{m:.3f} ± {s:.3f}" for m, s in zip(denoise["svc_clean"], denoise["svc_clean_std"])],
        )[["data", "setting", "method", "recon", "svc"]].rename(columns={
            "setting": "corruption", "recon": "MSE to clean rows", "svc": "SVC on clean codes"})
        lines += ["Held-out rows corrupted as in training:", "", _markdown(table), ""]
    sparse = results[results["experiment"] == "sparsity"]
    if len(sparse):
        table = sparse[["sparsity", "near_zero_share", "recon_mse", "svc_clean"]].round(4)
        lines += ["Sparse autoencoder on digits (latent_dim=8): code entries below 0.1 x their dimension's RMS", "",
                  _markdown(table), ""]
    return "\n".join(lines)


def targets(results):
    lines = ["Targets:"]
    for _, row in results[results["experiment"] == "conditional"].iterrows():
        met = row["min_class_share"] >= TARGET_SHARE
        lines.append(f"(1) {row['data']}: every class's samples labelled as asked >= {TARGET_SHARE:.0%}: "
                     f"{'MET' if met else 'NOT MET'} (lowest class {row['min_class_share']:.3f})")
    denoise = results[results["experiment"] == "denoising"]
    for (data, setting), group in denoise.groupby(["data", "setting"], sort=False):
        mse = group.set_index("method")["recon_mse"]
        best_plain = min(mse["Autoencoder"], mse["VAE"], mse["PCA"])
        best_denoising = min(mse["denoising Autoencoder"], mse["denoising VAE"])
        met = best_denoising < best_plain
        lines.append(f"(2) {data}, {setting}: a denoising model reconstructs corrupted rows closer to the "
                     f"clean ones than the plain models and PCA: {'MET' if met else 'NOT MET'} "
                     f"(denoising AE {mse['denoising Autoencoder']:.4f}, denoising VAE {mse['denoising VAE']:.4f}; "
                     f"AE {mse['Autoencoder']:.4f}, VAE {mse['VAE']:.4f}, PCA {mse['PCA']:.4f})")
    sparse = results[results["experiment"] == "sparsity"].sort_values("sparsity")
    if len(sparse) > 1:
        shares = sparse["near_zero_share"].to_numpy()
        rising = bool(shares[-1] > 2 * shares[0])
        lines.append(f"(3) sparsity: the largest penalty more than doubles the near-zero share: {'MET' if rising else 'NOT MET'} "
                     f"({' -> '.join(f'{v:.3f}' for v in sparse['near_zero_share'])}); reconstruction MSE "
                     f"{' -> '.join(f'{v:.4f}' for v in sparse['recon_mse'])}")
    return "\n".join(lines)


EXPERIMENTS = {"conditional": conditional, "denoising": denoising, "sparsity": sparsity}


def main(argv=None):
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--quick", action="store_true", help="tiny sizes: a smoke test, not a measurement")
    parser.add_argument("--only", nargs="+", choices=list(EXPERIMENTS), default=list(EXPERIMENTS))
    parser.add_argument("--output", type=Path, default=Path(__file__).resolve().parent / "results")
    args = parser.parse_args(argv)
    torch.set_num_threads(1)  # as compare_pca.py: small networks, a shared machine
    threadpool_limits(limits=1)
    warnings.simplefilter("ignore", ConvergenceWarning)

    def log(message):
        print(message, flush=True)

    rows = []
    for name in args.only:
        rows += EXPERIMENTS[name](args.quick, log)
    results = pd.DataFrame(rows)
    args.output.mkdir(parents=True, exist_ok=True)
    results.to_csv(args.output / "family.csv", index=False)
    log("")
    log(report(results))
    log(targets(results))
    log(f"\nwrote {args.output / 'family.csv'}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
