"""VQ-VAE on digits: held-out reconstruction against continuous codes, and code usage.

load_digits (8 x 8, pixels / 16) and, with ``--datasets digits_28x28``, the
same digits upsampled to 28 x 28 (benchmarks/compare_pca.digits_28x28),
split 70/30 (stratified, seed 0). Every model has the same latent size
(``--latent-dim``, default 8), the same dense networks (skvae's defaults)
and ``likelihood="bernoulli"``:

* ``VQVAETransformer``: reconstruction = the decoded quantised code,
  ``inverse_transform(codebook_[predict(X)])``; also, for reference, the
  decoded continuous encoder output ``inverse_transform(transform(X))``,
  which the decoder never saw in training;
* ``VAETransformer`` and ``AutoencoderTransformer``:
  ``inverse_transform(transform(X))`` (the decoder's mean at mu(x));
* ``PCA(latent_dim)`` and ``KMeans(n_codes)``: the linear code of the same
  size, and the one-prototype-per-row code of the same codebook size.

Reported: held-out mean squared error per pixel, held-out bound on log p(x)
(``score``, nats, where the model has one), codes used on the test rows and
perplexity of the training code distribution, fit time.

    python benchmarks/vqvae.py                 # 20 s at one thread
    python benchmarks/vqvae.py --datasets digits_8x8 digits_28x28   # 70 s
    python benchmarks/vqvae.py --quick         # a smoke run for the tests

Writes ``vqvae.csv`` to ``benchmarks/results`` (or ``--output``) and prints a
markdown table.
"""

import argparse
import time
import warnings
from pathlib import Path

import numpy as np
import pandas as pd
import torch
from compare_pca import digits_28x28
from sklearn.cluster import KMeans
from sklearn.datasets import load_digits
from sklearn.decomposition import PCA
from sklearn.exceptions import ConvergenceWarning
from sklearn.model_selection import train_test_split
from threadpoolctl import threadpool_limits

from skvae import AutoencoderTransformer, VAETransformer, VQVAETransformer

SEED = 0
OUTPUT = Path(__file__).resolve().parent / "results"  # the documented run passes --output docs/benchmark
QUICK = dict(max_iter=2, hidden_layer_sizes=(16,))


def _markdown(frame):
    header = "| " + " | ".join(frame.columns) + " |"
    rule = "|" + "|".join("---" for _ in frame.columns) + "|"
    rows = ["| " + " | ".join(str(v) for v in row) + " |" for row in frame.itertuples(index=False)]
    return "\n".join([header, rule, *rows])


def _timed_fit(model, X):
    start = time.perf_counter()
    model.fit(X)
    return time.perf_counter() - start


def _mse(X, reconstruction):
    return float(np.mean((X - reconstruction) ** 2))


def _digits_8x8():
    X, y = load_digits(return_X_y=True)
    return X / 16, y


DATASETS = {"digits_8x8": _digits_8x8, "digits_28x28": digits_28x28}


def run(dataset, latent_dim, n_codes, max_iter, quick):
    X, y = DATASETS[dataset]()
    X_train, X_test = train_test_split(X, test_size=0.3, stratify=y, random_state=SEED)
    if quick:
        X_train, X_test = X_train[:300], X_test[:100]
    params = {"likelihood": "bernoulli", "random_state": SEED, "max_iter": max_iter, **(QUICK if quick else {})}
    rows = []

    def row(model, method, seconds, reconstruction, score=np.nan, used=np.nan, perplexity=np.nan):
        rows.append(dict(dataset=dataset, model=model, reconstruction=method, test_mse=_mse(X_test, reconstruction),
                         test_bound=score, test_codes_used=used, train_perplexity=perplexity,
                         fit_seconds=seconds))

    vq = VQVAETransformer(latent_dim, n_codes=n_codes, **params)
    seconds = _timed_fit(vq, X_train)
    codes = vq.predict(X_test)
    used, perplexity = len(np.unique(codes)), vq.perplexity_
    row("VQVAETransformer", "decoded code e_k", seconds, vq.inverse_transform(vq.codebook_[codes]),
        vq.score(X_test), used, perplexity)
    row("VQVAETransformer", "decoded z_e (not trained)", seconds, vq.inverse_transform(vq.transform(X_test)))

    vae = VAETransformer(latent_dim, **params)
    seconds = _timed_fit(vae, X_train)
    row("VAETransformer", "decoded mu(x)", seconds, vae.inverse_transform(vae.transform(X_test)), vae.score(X_test))

    ae = AutoencoderTransformer(latent_dim, **params)
    seconds = _timed_fit(ae, X_train)
    row("AutoencoderTransformer", "decoded code", seconds, ae.inverse_transform(ae.transform(X_test)))

    pca = PCA(latent_dim, random_state=SEED)
    seconds = _timed_fit(pca, X_train)
    row("PCA", f"{latent_dim} components", seconds, pca.inverse_transform(pca.transform(X_test)))

    kmeans = KMeans(n_codes, n_init=4, random_state=SEED)
    seconds = _timed_fit(kmeans, X_train)
    centres = kmeans.predict(X_test)
    share = np.bincount(kmeans.labels_, minlength=n_codes) / len(X_train)
    share = share[share > 0]
    row("KMeans", "nearest centroid", seconds, kmeans.cluster_centers_[centres], np.nan,
        len(np.unique(centres)), float(np.exp(-(share * np.log(share)).sum())))
    return pd.DataFrame(rows), vq.n_iter_


def main():
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--output", type=Path, default=OUTPUT)
    parser.add_argument("--quick", action="store_true", help="tiny models on 300 rows, seconds")
    parser.add_argument("--latent-dim", type=int, default=8)
    parser.add_argument("--n-codes", type=int, default=64)
    parser.add_argument("--max-iter", type=int, default=200)
    parser.add_argument("--threads", type=int, default=1)
    parser.add_argument("--datasets", nargs="+", choices=sorted(DATASETS), default=["digits_8x8"])
    args = parser.parse_args()
    warnings.filterwarnings("ignore", category=ConvergenceWarning)
    torch.set_num_threads(args.threads)
    tables, epochs = [], {}
    with threadpool_limits(args.threads):
        for dataset in args.datasets:
            table, epochs[dataset] = run(dataset, args.latent_dim, args.n_codes, args.max_iter, args.quick)
            tables.append(table)
    table = pd.concat(tables, ignore_index=True)
    args.output.mkdir(parents=True, exist_ok=True)
    table.to_csv(args.output / "vqvae.csv", index=False)
    shown = table.copy()
    for column in ("test_mse", "test_bound", "train_perplexity"):
        shown[column] = shown[column].map(lambda v: "" if np.isnan(v) else f"{v:.4g}")
    shown["test_codes_used"] = shown["test_codes_used"].map(lambda v: "" if np.isnan(v) else f"{v:.0f}")
    shown["fit_seconds"] = shown["fit_seconds"].map(lambda v: f"{v:.1f}")
    print(f"latent_dim={args.latent_dim}, n_codes={args.n_codes}, max_iter={args.max_iter} "
          f"(VQ-VAE epochs run: {epochs}), threads={args.threads}\n")
    print(_markdown(shown))


if __name__ == "__main__":
    main()
