"""GPU evaluation chunk size: transform rate of 1M rows, one-row latency, row independence.

How ``skvae._data.GPU_EVAL_CHUNK_ROWS`` was chosen. On a GPU every
evaluation chunk is padded to that many rows (one shape, so a row's code is
its own whatever rows come with it); a larger chunk means fewer launches and
copies per row, and a one-row call costs a whole chunk's pass. For each
workload of ``benchmarks/gpu.py`` and each size, prints and writes
(``--output``) the rate, the median time of 100 one-row calls, and whether
rows 7-12 and each of the 100 single rows got the codes they get among
20,000 rows, bitwise.

    python benchmarks/gpu_chunks.py --output DIR       # on a CUDA GPU, about 40 s
    python benchmarks/gpu_chunks.py --device cpu       # a smoke test: a CPU pads as before, whatever the size
"""

import argparse
import json
import sys
from pathlib import Path

import numpy as np

sys.path.insert(0, str(Path(__file__).resolve().parent))
sys.path.insert(0, str(Path(__file__).resolve().parents[1]))  # the checkout's skvae, without installing

import skvae._data  # noqa: E402
from gpu import WORKLOADS, fitted_model, images, one_row, rows_per_s  # noqa: E402

SIZES = (1024, 4096, 8192, 16384)


def measure(model, X, rows):
    rate = rows_per_s(model, rows)
    one_row_ms, largest_difference = one_row(model, X, repeats=100)
    independent = largest_difference == 0.0 and bool(np.array_equal(model.transform(X[7:12]), model.transform(X[:20_000])[7:12]))
    return rate, one_row_ms, independent


def main(argv=None):
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--device", default="cuda", choices=["cuda", "cpu"])
    parser.add_argument("--output", type=Path)
    args = parser.parse_args(argv)
    n_rows = 1_000_000 if args.device == "cuda" else 20_000
    X = images(60_000 if args.device == "cuda" else 4096)
    rows = np.resize(X, (n_rows, X.shape[1]))
    results = []
    chosen = skvae._data.GPU_EVAL_CHUNK_ROWS
    try:
        for workload, params in WORKLOADS.items():
            model = fitted_model(params, X, args.device)
            for size in SIZES:
                skvae._data.GPU_EVAL_CHUNK_ROWS = size
                rate, one_row_ms, independent = measure(model, X, rows)
                results.append(dict(workload=workload, chunk=size, rows_per_s=rate, one_row_ms=one_row_ms,
                                    independent=independent))
                print(f"{workload}, chunks of {size:,} rows: {rate:,.0f} rows/s; one row {one_row_ms:.2f} ms; "
                      f"row-independent: {independent}", flush=True)
    finally:
        skvae._data.GPU_EVAL_CHUNK_ROWS = chosen
    if args.output is not None:
        args.output.mkdir(parents=True, exist_ok=True)
        (args.output / "gpu_chunks.json").write_text(json.dumps(results, indent=1))
    return 0


if __name__ == "__main__":
    sys.exit(main())
