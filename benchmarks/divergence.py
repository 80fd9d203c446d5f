"""How far the divergence check's threshold lies from sound fits, and from broken ones.

After training, a fit is refused ("Training diverged") when its
reconstructions of a standardised column of its own training rows miss by
more than ``DIVERGED_RECONSTRUCTION`` (5) standard deviations, root mean
square, and by that many times the most they missed any column by before
training (skvae/_fitting.py); or when a column's learned noise spreads
more than that many times the larger of its miss and that start. This
script prints both ratios the check compares for every family member fitted
with its defaults on every real data set of ``benchmarks/datasets.py`` (at
most ``--max-rows`` rows and 300 columns, ``--max-iter`` epochs), then for
fits at absurd learning rates on a small mixed table and at
``learning_rate_init=0.1`` on wine, which should be refused (or, an
autoencoder whose decoder gives every row one output, warned of).

    OMP_NUM_THREADS=1 python benchmarks/divergence.py --output docs/benchmark   # about 4 minutes
    OMP_NUM_THREADS=1 python benchmarks/divergence.py --quick

``--output DIR`` writes ``divergence.csv`` there (one row per fit).
"""

import argparse
import sys
import warnings
from pathlib import Path

import numpy as np
import pandas as pd

sys.path.insert(0, str(Path(__file__).resolve().parent))

import datasets  # benchmarks/datasets.py: the script's own folder is on sys.path

import skvae
import skvae._base
from skvae._fitting import DIVERGED_RECONSTRUCTION

MEMBERS = ("VAETransformer", "AutoencoderTransformer", "ConditionalVAETransformer", "VQVAETransformer",
           "HierarchicalVAETransformer", "VAEGANTransformer", "VAEImputer")


def watched_fit(estimator, X, y=None):
    """Fit, and return the two ratios the check compared (nan if it never ran) and what happened.

    The ratios: the largest growth of a column's miss, and the largest
    learned noise spread in multiples of the larger of its miss and the
    start's (nan without learned noise).
    """
    seen, noise = [], []
    check = skvae._base.check_not_diverged

    def spy(model, start, end, *args, **kwargs):
        floor = max(1.0, float(start.errors.max(initial=0.0)))
        seen.append(float((end.errors / floor).max(initial=0.0)))
        if end.noise is not None and np.isfinite(end.noise).any():
            noise.append(float(np.nanmax(np.sqrt(end.noise) / np.maximum(floor, end.errors))))
        return check(model, start, end, *args, **kwargs)

    skvae._base.check_not_diverged = spy  # the name the fit calls it by
    try:
        with warnings.catch_warnings(record=True) as caught:
            warnings.simplefilter("always")
            estimator.fit(X, y)
        dead = any("same output" in str(warning.message) for warning in caught)
        outcome = "returned, warned: one output" if dead else "returned"
    except ValueError as error:
        outcome = "refused" if "diverged" in str(error) else f"error: {error}"
    finally:
        skvae._base.check_not_diverged = check
    return (max(seen) if seen else float("nan")), (max(noise) if noise else float("nan")), outcome


def main(argv=None):
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--max-rows", type=int, default=1500)
    parser.add_argument("--max-iter", type=int, default=40)
    parser.add_argument("--quick", action="store_true", help="two data sets, two members, 3 epochs")
    parser.add_argument("--output", type=Path, help="folder for divergence.csv")
    args = parser.parse_args(argv)
    names = ["penguins", "wine"] if args.quick else datasets.names()
    members = MEMBERS[:2] if args.quick else MEMBERS
    max_iter = 3 if args.quick else args.max_iter
    rows = []
    for name in names:
        data = datasets.load(name, max_rows=args.max_rows)
        X = data.X.iloc[:, :300]
        for member in members:
            y = data.y if member == "ConditionalVAETransformer" else None  # the data set's classes
            ratio, noise, outcome = watched_fit(getattr(skvae, member)(random_state=0, max_iter=max_iter), X, y)
            rows.append({"data": name, "estimator": member, "ratio": ratio, "noise": noise, "outcome": outcome})
            print(f"{name:16s} {member:28s} {ratio:6.2f} {noise:6.2f} {outcome}", flush=True)
    sound = pd.DataFrame(rows)
    print(f"\nSound fits (defaults, {max_iter} epochs): largest ratio {sound.ratio.max():.2f} "
          f"({sound.loc[sound.ratio.idxmax(), 'estimator']} on {sound.loc[sound.ratio.idxmax(), 'data']}), "
          f"largest noise {sound.noise.max():.2f} "
          f"({sound.loc[sound.noise.idxmax(), 'estimator']} on {sound.loc[sound.noise.idxmax(), 'data']}); "
          f"threshold {DIVERGED_RECONSTRUCTION:g} for both; refused or warned of: "
          f"{int((sound.outcome != 'returned').sum())}")

    rng = np.random.RandomState(0)
    X = pd.DataFrame({"a": rng.normal(size=300), "b": rng.normal(size=300) * 3 + 1,
                      "c": rng.choice(["x", "y", "z"], size=300), "d": rng.poisson(3, size=300)})
    print("\nAbsurd learning rates on a 300 x 4 mixed table (latent 2, one layer of 16, 15 epochs):")
    for member, rate in (("AutoencoderTransformer", 10.0), ("AutoencoderTransformer", 1.0), ("VAETransformer", 1.0),
                         ("VAEGANTransformer", 1.0)):
        for seed in range(8):
            estimator = getattr(skvae, member)(latent_dim=2, hidden_layer_sizes=(16,), learning_rate_init=rate,
                                               max_iter=15, random_state=seed)
            ratio, noise, outcome = watched_fit(estimator, X)
            rows.append({"data": "mixed 300 x 4", "estimator": f"{member}, learning_rate_init={rate:g}, seed {seed}",
                         "ratio": ratio, "noise": noise, "outcome": outcome})
            print(f"{member:24s} learning_rate_init={rate:g} seed {seed}: ratio {ratio:9.2f} noise {noise:9.2f} "
                  f"{outcome}")
    # A rate that leaves the reconstructions sound and throws the learned noise off.
    wine = datasets.load("wine")
    print("\nlearning_rate_init=0.1 on wine (latent 2, 20 epochs):")
    for member in ("VAETransformer", "ConditionalVAETransformer"):
        for seed in range(4):
            estimator = getattr(skvae, member)(latent_dim=2, learning_rate_init=0.1, max_iter=20, random_state=seed)
            ratio, noise, outcome = watched_fit(estimator, wine.X, wine.y)
            rows.append({"data": "wine", "estimator": f"{member}, learning_rate_init=0.1, seed {seed}",
                         "ratio": ratio, "noise": noise, "outcome": outcome})
            print(f"{member:28s} seed {seed}: ratio {ratio:6.2f} noise {noise:9.2f} {outcome}")
    if args.output is not None:
        args.output.mkdir(parents=True, exist_ok=True)
        pd.DataFrame(rows).to_csv(args.output / "divergence.csv", index=False)
        print(f"wrote {args.output / 'divergence.csv'}")


if __name__ == "__main__":
    main()
