"""GPU throughput: fit samples/s of the dense and convolutional workloads at three batch sizes, transform of 1M rows.

Run by ``benchmarks/gpu.sh`` on a machine with a CUDA GPU; each GPU figure
comes with the same measurement on this machine's CPU (all its cores, a
shorter run) and their ratio. Workloads, as in benchmarks/throughput.py:

* dense: a 784-256-256-8 Bernoulli VAE on 28 x 28 rows;
* conv: a convolutional VAE (``image_shape=(28, 28)``, ``conv_channels=(8, 16)``, the default when
  the GPU table was first measured, kept so that runs compare), 8 latent dimensions;
* the dense model in a plain PyTorch loop (``benchmarks/throughput.py``'s ``TutorialVAE``,
  rows on the device, index slicing), the yardstick for skvae's own loop.

It also times default fits (stopping rule included) of 5,000 images, dense
and convolutional, and the median one-row ``transform`` on each device (with
whether that row's code is the one it gets among 20,000; on the CPU also by
how much it differs, at the evaluation's threads and at one thread), and
checks whether two fits with one ``random_state`` agree bitwise (and, for
the convolutional one on a GPU, with cuDNN's deterministic algorithms).

Writes ``gpu.json`` and prints a markdown table. ``--device cpu --quick``
runs the same code on a CPU in seconds (what the tests run).
"""

import argparse
import json
import sys
import time
import traceback
import warnings
from pathlib import Path

import numpy as np
import torch

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))  # the checkout's skvae, without installing

from skvae import VAETransformer  # noqa: E402
from skvae._data import EVAL_CHUNK_ROWS
from skvae._threads import threads_for

sys.path.insert(0, str(Path(__file__).resolve().parent))
from suite import cpu_model  # noqa: E402  (row independence on a CPU depends on its BLAS kernels)
from throughput import TutorialVAE  # noqa: E402  (the same model, as a tutorial writes it)

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


def steady_rate(run, n_rows, seconds):
    """Samples/s of ``run(n_epochs)`` (which returns its wall time) beyond its fixed costs.

    Epochs are doubled until they take ``seconds`` beyond a one-epoch run: at
    batch 4,096 two epochs of 60,000 rows take 0.1 s on a GPU, less than the
    noise in a fit's fixed costs (a first run gave 1.4M samples/s, a second
    0.48M). A run of its own warms up first: a process's first GPU fit also
    starts CUDA, which once made the one-epoch run look longer than two
    epochs and the calibration ask for 200.
    """
    run(1)
    one_epoch = run(1)
    epochs = 2
    while True:
        extra = run(1 + epochs) - one_epoch
        if extra >= seconds or epochs >= 256:
            return n_rows * epochs / max(extra, 1e-6)
        epochs *= 2


def fit_rate(params, X, batch_size, device, seconds, steady=True):
    """Training samples per second, beyond a fit's fixed costs (``steady``), or of a whole one-epoch fit."""
    def fit(n_epochs):
        with warnings.catch_warnings():
            warnings.simplefilter("ignore")
            start = time.perf_counter()
            # No early stopping: at 60,000 rows "auto" holds out 10% and scores it every
            # epoch, which the plain loop does not (the first H200 run had it on).
            VAETransformer(**params, batch_size=batch_size, max_iter=n_epochs, tol=0, early_stopping=False,
                           random_state=0, device=device).fit(X)
            if device == "cuda":
                torch.cuda.synchronize()
            return time.perf_counter() - start
    return steady_rate(fit, len(X), seconds) if steady else len(X) / fit(1)


def plain_loop_rate(X, batch_size, device, seconds, steady=True):
    """Samples/s of the dense workload in a plain PyTorch loop: rows on the device, index slicing."""
    torch.manual_seed(0)
    X = torch.as_tensor(X, device=device)
    model = TutorialVAE(X.shape[1], "bernoulli").to(device)
    optimizer = torch.optim.Adam(model.parameters(), lr=1e-3)

    def run(n_epochs):
        start = time.perf_counter()
        for _ in range(n_epochs):
            order = torch.randperm(len(X), device=device)
            for i in range(0, len(X), batch_size):
                loss = model.loss(X[order[i: i + batch_size]])
                optimizer.zero_grad()
                loss.backward()
                optimizer.step()
            float(loss.detach())  # once an epoch, as skvae reads its epoch loss
        return time.perf_counter() - start
    return steady_rate(run, len(X), seconds) if steady else len(X) / run(1)


def default_fit_seconds(params, X, device):
    """Wall time of a fit at the defaults (its stopping rule included), and its epochs."""
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        start = time.perf_counter()
        model = VAETransformer(**params, random_state=0, device=device).fit(X)
        if device == "cuda":
            torch.cuda.synchronize()
        return time.perf_counter() - start, model.n_iter_


def fitted_model(params, X, device):
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        return VAETransformer(**params, max_iter=1, random_state=0, device=device).fit(X[:2048])


def rows_per_s(model, rows):
    """Rows per second of ``model.transform(rows)``, after a warm-up call."""
    model.transform(rows[:4096])
    start = time.perf_counter()
    model.transform(rows)
    return len(rows) / (time.perf_counter() - start)


def one_row(model, X, repeats):
    """Median milliseconds of ``transform`` of one row, and the largest difference from its code among many.

    The difference is 0.0 where every row got, alone, bitwise the code it
    gets among 20,000 rows (row independence).
    """
    among_many = model.transform(X[:20_000])
    times, largest_difference = [], 0.0
    for i in range(min(repeats, len(X))):
        start = time.perf_counter()
        code = model.transform(X[i: i + 1])
        times.append(time.perf_counter() - start)
        largest_difference = max(largest_difference, float(np.abs(code[0] - among_many[i]).max()))
    return 1e3 * float(np.median(times)), largest_difference


def row_independence_on_cpu(params, X, rows=200):
    """Largest difference between one row's code alone and among 20,000, at the CPU's threads and at one.

    The 16-core CPUs beside the H200 and the H100 broke row independence
    (runs 5 and 6) when a product ran on several torch threads, and kept it
    on one; evaluation now runs every chunk on one torch thread, several
    chunks at once, so both should be 0.
    """
    model = fitted_model(params, X, "cpu")
    previous = torch.get_num_threads()
    # Chunks evaluated at once, each on one torch thread (run 6 and before: torch threads of the call).
    evaluation_workers = threads_for(EVAL_CHUNK_ROWS * model._multiply_adds(model.network_))
    _, at_default = one_row(model, X, rows)
    torch.set_num_threads(1)
    try:
        return {"threads": previous, "evaluation_workers": evaluation_workers,
                "largest_difference": at_default, "at_one_thread": one_row(model, X, rows)[1]}
    finally:
        torch.set_num_threads(previous)


def transform_rate(params, X, n_rows, device):
    return rows_per_s(fitted_model(params, X, device), np.resize(X, (n_rows, X.shape[1])))


def one_row_ms(params, X, device, repeats=200):
    """Median milliseconds of a one-row ``transform``, and whether every row's code was its own bitwise."""
    milliseconds, largest_difference = one_row(fitted_model(params, X, device), X, repeats)
    return milliseconds, largest_difference == 0.0


def reproducible(params, X, device):
    """Largest difference between the codes of two fits with the same random_state (0.0: bitwise)."""
    def codes():
        with warnings.catch_warnings():
            warnings.simplefilter("ignore")
            model = VAETransformer(**params, max_iter=2, tol=0, random_state=0, device=device).fit(X)
        return model.transform(X)
    return float(np.abs(codes() - codes()).max())


def main(argv=None):
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--device", default="cuda", choices=["cuda", "cpu"])
    parser.add_argument("--quick", action="store_true")
    parser.add_argument("--output", type=Path)
    args = parser.parse_args(argv)
    if args.device == "cuda" and not torch.cuda.is_available():
        print("No CUDA GPU visible to torch: nothing to measure.", file=sys.stderr)
        return 2
    n_rows, seconds, transform_rows = (2048, 0, 8192) if args.quick else (60_000, 1.0, 1_000_000)
    batches = (128, 1024) if args.quick else (128, 1024, 4096)
    X = images(n_rows)
    name = torch.cuda.get_device_name() if args.device == "cuda" else "CPU"
    rows, failures = [], []
    n_default = 256 if args.quick else 5000
    defaults, one_rows, repeats, cpu_rows = {}, {}, {}, {}
    report = {"device": name, "cpu": cpu_model(), "cpu_threads": torch.get_num_threads(),
              "torch": torch.__version__, "rows": rows,
              "default_fit_seconds_and_epochs": defaults, "one_row_transform_ms_and_row_independent": one_rows,
              "cpu_row_independence": cpu_rows,
              "largest_difference_between_repeated_fits": repeats, "failures": failures}

    def attempt(label, step):
        """``step()``, or None where it fails; the report is written after every step.

        A failure is reported with its traceback and the run goes on, and a
        run stopped at its time limit keeps what it measured: a GPU lease
        is short and rare.
        """
        try:
            return step()
        except Exception:  # noqa: BLE001
            failures.append(f"{label}:\n{traceback.format_exc()}")
            print(failures[-1], file=sys.stderr, flush=True)
            return None
        finally:
            write_report()

    def write_report():
        if args.output is not None:
            args.output.mkdir(parents=True, exist_ok=True)
            (args.output / "gpu.json").write_text(json.dumps(report, indent=1))

    def measure(row, gpu_rate, cpu_rate):
        rates = attempt(f"{row['workload']} {row['task']} {row['batch_size'] or ''}", lambda: (gpu_rate(), cpu_rate()))
        if rates is None:
            return
        gpu, cpu = rates
        rows.append(dict(row, device=name, samples_per_s=gpu, cpu_samples_per_s=cpu, ratio=gpu / cpu))
        print(f"{row['workload']} {row['task']}, batch {row['batch_size']}: {gpu:,.0f} samples/s "
              f"({gpu / cpu:.1f}x the CPU)", flush=True)

    def plain_loop(batch_size):
        measure(dict(workload="dense 784-256-256-8", task="fit, plain PyTorch loop", batch_size=batch_size),
                lambda: plain_loop_rate(X, batch_size, args.device, seconds, steady=not args.quick),
                lambda: plain_loop_rate(X[: max(batch_size * 4, len(X) // 10)], batch_size, "cpu", seconds,
                                        steady=not args.quick))

    for workload, params in WORKLOADS.items():
        for batch_size in batches:
            measure(dict(workload=workload, task="fit", batch_size=batch_size),
                    lambda: fit_rate(params, X, batch_size, args.device, seconds, steady=not args.quick),
                    # The CPU on a tenth of the rows: a rate, so comparable, and the run stays short.
                    lambda: fit_rate(params, X[: max(batch_size * 4, len(X) // 10)], batch_size, "cpu",
                                     seconds, steady=not args.quick))
            if workload.startswith("dense"):
                plain_loop(batch_size)  # side by side with skvae's fit, in case a lease ends early
        measure(dict(workload=workload, task=f"transform of {transform_rows:,} rows", batch_size=None),
                lambda: transform_rate(params, X, transform_rows, args.device),
                lambda: transform_rate(params, X, transform_rows // 10, "cpu"))

    # Default fits (the stopping rule decides the epochs) of 5,000 images: what the
    # convolutional network costs over the dense one on this device.
    for workload, params in {"dense": dict(latent_dim=8, likelihood="bernoulli"),
                             "conv": dict(latent_dim=8, likelihood="bernoulli", image_shape=(28, 28))}.items():
        if args.quick:  # a smoke run: the path, not the 200 epochs (7 s of the conv fit's on a CPU)
            params = dict(params, max_iter=20)
        result = attempt(f"default {workload} fit", lambda: default_fit_seconds(params, X[:n_default], args.device))
        if result is not None:
            defaults[f"{workload}, {n_default} images"] = result
            print(f"default {workload} fit of {n_default:,} images: {result[0]:.1f} s ({result[1]} epochs)",
                  flush=True)

    for workload, params in WORKLOADS.items():
        result = attempt(f"{workload} one-row transform", lambda: {"device": one_row_ms(params, X, args.device),
                                                                 "cpu": one_row_ms(params, X, "cpu")})
        if result is not None:
            one_rows[workload] = result
            (gpu, alone), (cpu, _) = result["device"], result["cpu"]
            print(f"{workload} transform of one row: {gpu:.2f} ms (CPU {cpu:.2f} ms); the same code as among "
                  f"20,000 rows: {alone}", flush=True)

    for workload, params in WORKLOADS.items():
        result = attempt(f"{workload} CPU row independence", lambda: row_independence_on_cpu(params, X))
        if result is not None:
            cpu_rows[workload] = result
            print(f"{workload} on the CPU, one row alone against among 20,000: largest difference "
                  f"{result['largest_difference']:.3g} with {result['threads']} threads allowed "
                  f"({result['evaluation_workers']} chunks at once), {result['at_one_thread']:.3g} with one", flush=True)

    def deterministic_cudnn(params):
        # cuDNN's fastest convolution algorithms sum in no fixed order; its deterministic ones do.
        torch.backends.cudnn.deterministic = True
        try:
            return reproducible(params, X[:2048], args.device)
        finally:
            torch.backends.cudnn.deterministic = False

    checks = [(workload, lambda params=params: reproducible(params, X[:2048], args.device))
              for workload, params in WORKLOADS.items()]
    if args.device == "cuda":
        checks.append(("conv (8, 16) 128-64-8, torch.backends.cudnn.deterministic=True",
                       lambda: deterministic_cudnn(WORKLOADS["conv (8, 16) 128-64-8"])))
    for workload, check in checks:
        result = attempt(f"{workload} reproducibility", check)
        if result is not None:
            repeats[workload] = result
            write_report()  # attempt wrote the report before the result was in it
            print(f"{workload}: two fits with one random_state differ by at most {result:.3g}", flush=True)
    print()
    print(f"Device: {name}; torch {torch.__version__}; CPU {cpu_model()}, threads {torch.get_num_threads()}")
    print()
    print("| workload | task | batch | samples/s | CPU samples/s | ratio |")
    print("|---|---|---|---|---|---|")
    for row in rows:
        print(f"| {row['workload']} | {row['task']} | {row['batch_size'] or ''} | {row['samples_per_s']:,.0f} | "
              f"{row['cpu_samples_per_s']:,.0f} | {row['ratio']:.1f}x |")
    return 1 if failures else 0


if __name__ == "__main__":
    sys.exit(main())
