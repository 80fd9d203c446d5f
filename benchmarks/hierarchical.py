"""Does a second latent layer earn its cost? HierarchicalVAETransformer against VAETransformer.

On digits 8x8 (load_digits / 16) and 28x28 (the same digits upsampled,
throughput.digits_784), a two-layer ladder VAE and the one-layer VAE with the
same total latent size, the same networks ((256, 128) hidden units), the
same 200 epochs and ``likelihood="bernoulli"``, are fitted on 80% of the
rows and scored on the other 20% (three splits and seeds): the held-out
IWAE bound with K=50 (``score_samples(X, n_importance=50)``, nats per
digit, higher is better), the held-out ELBO,
the active units of each layer (``n_active_units_``) and the fit time. The
hierarchy is also run with free bits (0.25 nats per dimension), the usual
remedy for an upper layer that collapses to its prior, and so is the VAE,
so that each model is compared with its like.

    OMP_NUM_THREADS=1 python benchmarks/hierarchical.py  # the full run, a few minutes
    python benchmarks/hierarchical.py --quick    # a smoke run for the tests

Prints a markdown table (means over the seeds) and writes every run to
``OUTPUT/hierarchical.csv``.
"""

import argparse
import time
import warnings
from pathlib import Path

import numpy as np
import pandas as pd
from sklearn.datasets import load_digits
from sklearn.exceptions import ConvergenceWarning
from sklearn.model_selection import train_test_split
from throughput import digits_784, markdown_table

from skvae import HierarchicalVAETransformer, VAETransformer

RESULTS = Path(__file__).resolve().parent / "results"  # the documented run passes --output docs/benchmark
K = 50


def models(latent_dims, free_bits):
    """(name, estimator factory) pairs: the one-layer VAE and the hierarchy, same total latent size."""
    total = sum(latent_dims)
    return [
        (f"VAE latent_dim={total}", lambda **p: VAETransformer(total, **p)),
        (f"VAE latent_dim={total}, free_bits={free_bits}", lambda **p: VAETransformer(total, free_bits=free_bits, **p)),
        (f"HVAE latent_dims={latent_dims}", lambda **p: HierarchicalVAETransformer(latent_dims, **p)),
        (
            f"HVAE latent_dims={latent_dims}, free_bits={free_bits}",
            lambda **p: HierarchicalVAETransformer(latent_dims, free_bits=free_bits, **p),
        ),
    ]


def run(quick, output):
    digits = load_digits().images.reshape(-1, 64) / 16.0
    datasets = [("digits 8x8", digits), ("digits 28x28", digits_784(len(digits)))]
    if quick:
        datasets = [(name, X[:200]) for name, X in datasets]
    seeds = [0] if quick else [0, 1, 2]
    params = {
        "likelihood": "bernoulli",
        "hidden_layer_sizes": (16,) if quick else (256, 128),
        "max_iter": 2 if quick else 200,
        "batch_size": 128,
    }
    n_importance = 4 if quick else K
    rows = []
    for dataset, X in datasets:
        for seed in seeds:
            X_train, X_test = train_test_split(X, test_size=0.2, random_state=seed)
            for name, make in models((8, 4), 0.25):
                model = make(random_state=seed, **params)
                start = time.perf_counter()
                model.fit(X_train)
                fit_s = time.perf_counter() - start
                active = model.n_active_units_
                rows.append(
                    {
                        "dataset": dataset,
                        "model": name,
                        "seed": seed,
                        "epochs": model.n_iter_,
                        f"test_iwae{n_importance}": model.score_samples(X_test, n_importance=n_importance).mean(),
                        "test_elbo": model.score(X_test),
                        "active_units": "/".join(map(str, np.atleast_1d(active))),
                        "fit_s": fit_s,
                    }
                )
                print(f"{dataset} seed {seed} {name}: {rows[-1]}", flush=True)
                # Written after every fit, so an interrupted run keeps what it measured.
                pd.DataFrame(rows).to_csv(output / "hierarchical.csv", index=False)
    return pd.DataFrame(rows)


def table(results):
    numeric = results.drop(columns=["seed", "active_units"]).groupby(["dataset", "model"], sort=False).mean()
    # Active units of every seed, "bottom/top" per seed, so a collapse in one seed shows.
    numeric["active_units (per seed)"] = results.groupby(["dataset", "model"], sort=False)["active_units"].agg(
        ", ".join
    )
    return markdown_table(numeric.reset_index().round(2))


def main():
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--quick", action="store_true", help="tiny data and 2 epochs: checks the plumbing")
    parser.add_argument("--output", type=Path, default=RESULTS, help="folder for hierarchical.csv")
    args = parser.parse_args()
    warnings.filterwarnings("ignore", category=ConvergenceWarning)
    args.output.mkdir(parents=True, exist_ok=True)
    results = run(args.quick, args.output)
    print(table(results))


if __name__ == "__main__":
    main()
