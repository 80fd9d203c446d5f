"""GPU throughput: fit samples/s of the dense and convolutional workloads at three batch sizes, transform of 1M rows.

Run by ``benchmarks/gpu.sh`` on a machine with a CUDA GPU; each GPU figure
comes with the same measurement on this machine's CPU (all its cores, a
shorter run) and their ratio. Workloads, as in benchmarks/throughput.py:

* dense: a 784-256-256-8 Bernoulli VAE on 28 x 28 rows;
* conv: the default convolutional VAE (``image_shape=(28, 28)``), 8 latent dimensions.

Writes ``gpu.json`` and prints a markdown table. ``--device cpu --quick``
runs the same code on a CPU in seconds (what the tests run).
"""

import argparse
import json
import sys
import time
import warnings
from pathlib import Path

import numpy as np
import torch

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))  # the checkout's skvae, without installing

from skvae import VAETransformer  # noqa: E402

WORKLOADS = {
    "dense 784-256-256-8": dict(latent_dim=8, hidden_layer_sizes=(256, 256), likelihood="bernoulli"),
    "conv (8, 16) 128-64-8": dict(latent_dim=8, image_shape=(28, 28), conv_channels=(8, 16), likelihood="bernoulli"),
}


def images(n_rows, seed=0):
    """Digit-like 28 x 28 rows in [0, 1]: smooth blobs, so the networks have something to learn."""
    rng = np.random.RandomState(seed)
    yy, xx = np.mgrid[:28, :28]
    centres = rng.uniform(7, 21, size=(n_rows, 2, 2))
    X = np.zeros((n_rows, 28, 28), dtype=np.float32)
    for k in range(2):
        X += np.exp(-((yy - centres[:, k, :1, None]) ** 2 + (xx - centres[:, k, 1:, None]) ** 2) / 12.0)
    return np.clip(X, 0, 1).reshape(n_rows, 784)


def fit_rate(params, X, batch_size, epochs, device, steady=True):
    """Training samples per second: of ``epochs`` epochs beyond a first (``steady``), or of a whole fit."""
    def fit(n_epochs):
        with warnings.catch_warnings():
            warnings.simplefilter("ignore")
            start = time.perf_counter()
            VAETransformer(**params, batch_size=batch_size, max_iter=n_epochs, tol=0, random_state=0,
                           device=device).fit(X)
            if device == "cuda":
                torch.cuda.synchronize()
            return time.perf_counter() - start
    if not steady:
        return len(X) * epochs / fit(epochs)
    fit(1)
    return len(X) * epochs / (fit(1 + epochs) - fit(1))


def transform_rate(params, X, n_rows, device):
    model = VAETransformer(**params, max_iter=1, random_state=0, device=device)
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        model.fit(X[:2048])
    rows = np.resize(X, (n_rows, X.shape[1]))
    model.transform(rows[:4096])
    start = time.perf_counter()
    model.transform(rows)
    return n_rows / (time.perf_counter() - start)


def main(argv=None):
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--device", default="cuda", choices=["cuda", "cpu"])
    parser.add_argument("--quick", action="store_true")
    parser.add_argument("--output", type=Path)
    args = parser.parse_args(argv)
    if args.device == "cuda" and not torch.cuda.is_available():
        print("No CUDA GPU visible to torch: nothing to measure.", file=sys.stderr)
        return 2
    n_rows, epochs, transform_rows = (2048, 1, 8192) if args.quick else (60_000, 2, 1_000_000)
    batches = (128, 1024) if args.quick else (128, 1024, 4096)
    X = images(n_rows)
    name = torch.cuda.get_device_name() if args.device == "cuda" else "CPU"
    rows = []
    for workload, params in WORKLOADS.items():
        for batch_size in batches:
            gpu = fit_rate(params, X, batch_size, epochs, args.device, steady=not args.quick)
            # The CPU on a tenth of the rows: a rate, so comparable, and the run stays short.
            cpu = fit_rate(params, X[: max(batch_size * 4, len(X) // 10)], batch_size, 1, "cpu",
                           steady=not args.quick)
            rows.append(dict(workload=workload, task="fit", batch_size=batch_size, device=name,
                             samples_per_s=gpu, cpu_samples_per_s=cpu, ratio=gpu / cpu))
            print(f"{workload} fit, batch {batch_size}: {gpu:,.0f} samples/s ({gpu / cpu:.1f}x the CPU)", flush=True)
        gpu = transform_rate(params, X, transform_rows, args.device)
        cpu = transform_rate(params, X, transform_rows // 10, "cpu")
        rows.append(dict(workload=workload, task=f"transform of {transform_rows:,} rows", batch_size=None,
                         device=name, samples_per_s=gpu, cpu_samples_per_s=cpu, ratio=gpu / cpu))
        print(f"{workload} transform: {gpu:,.0f} rows/s ({gpu / cpu:.1f}x the CPU)", flush=True)
    print()
    print(f"Device: {name}; torch {torch.__version__}; CPU threads {torch.get_num_threads()}")
    print()
    print("| workload | task | batch | samples/s | CPU samples/s | ratio |")
    print("|---|---|---|---|---|---|")
    for row in rows:
        print(f"| {row['workload']} | {row['task']} | {row['batch_size'] or ''} | {row['samples_per_s']:,.0f} | "
              f"{row['cpu_samples_per_s']:,.0f} | {row['ratio']:.1f}x |")
    if args.output is not None:
        args.output.mkdir(parents=True, exist_ok=True)
        (args.output / "gpu.json").write_text(json.dumps(
            {"device": name, "torch": torch.__version__, "rows": rows}, indent=1))
    return 0


if __name__ == "__main__":
    sys.exit(main())
