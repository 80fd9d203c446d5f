"""Fit time with torch's default threads against skvae's choice, alone and beside busy processes.

Three workloads, default estimators but for ``max_iter``:

* small: a 6,000 x 10 table, ``VAETransformer()`` (15 epochs);
* medium: a 50,000 x 100 table, ``VAETransformer()`` (3 epochs);
* image: 5,000 rows of 784 pixels, ``VAETransformer(8, hidden_layer_sizes=(256, 256), likelihood="bernoulli")``
  (3 epochs).

Each fit runs in a fresh process, alone or beside one or two processes
that keep a core busy (a Python loop), under two policies: "torch default"
(every fit and evaluation at ``torch.get_num_threads()``, as skvae did
before it chose) and "skvae" (skvae's choice, skvae/_threads.py). Prints a
markdown table of median seconds over ``--repeats`` and the ratio.

    python benchmarks/threads.py --output docs/benchmark      # about 10 minutes on 2 cores
    python benchmarks/threads.py --quick                      # seconds
"""

import argparse
import json
import multiprocessing
import statistics
import subprocess
import sys
import time
from pathlib import Path

WORKLOADS = {
    "small 6,000 x 10": dict(rows=6000, columns=10, params=dict(max_iter=15)),
    "medium 50,000 x 100": dict(rows=50000, columns=100, params=dict(max_iter=3)),
    "image 5,000 x 784 (784-256-256-8)": dict(
        rows=5000, columns=784,
        params=dict(latent_dim=8, hidden_layer_sizes=(256, 256), likelihood="bernoulli", max_iter=3)),
}

_FIT = r"""
import json, sys, time, warnings
import numpy as np
warnings.simplefilter("ignore")
import skvae._threads as threads
from skvae import VAETransformer
case = json.loads(sys.argv[1])
if case["policy"] == "torch default":
    import torch
    threads.threads_for = lambda work: torch.get_num_threads()
    import skvae._base
    skvae._base.threads_for = threads.threads_for
rng = np.random.RandomState(0)
latent = rng.normal(size=(case["rows"], 4))
X = latent @ rng.normal(size=(4, case["columns"])) + 0.5 * rng.normal(size=(case["rows"], case["columns"]))
if case["params"].get("likelihood") == "bernoulli":
    X = 1 / (1 + np.exp(-X))
start = time.perf_counter()
VAETransformer(random_state=0, **case["params"]).fit(X)
print(json.dumps({"seconds": time.perf_counter() - start}))
"""


def _busy():
    while True:
        pass


def fit_seconds(workload, policy):
    case = {**workload, "policy": policy}
    out = subprocess.run([sys.executable, "-c", _FIT, json.dumps(case)], capture_output=True, text=True, check=True)
    return json.loads(out.stdout.strip().splitlines()[-1])["seconds"]


def main(argv=None):
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--repeats", type=int, default=3)
    parser.add_argument("--busy", type=int, nargs="+", default=[0, 1, 2], help="busy processes beside the fit")
    parser.add_argument("--quick", action="store_true", help="a tiny run, for the tests")
    parser.add_argument("--output", type=Path)
    args = parser.parse_args(argv)
    workloads = WORKLOADS
    if args.quick:
        workloads = {"quick 600 x 10": dict(rows=600, columns=10, params=dict(max_iter=2))}
        args.repeats, args.busy = 1, [1]  # the path with a busy process: it is the other's too
    rows = []
    for n_busy in args.busy:
        busy = [multiprocessing.Process(target=_busy, daemon=True) for _ in range(n_busy)]
        for process in busy:
            process.start()
        time.sleep(0.5 if n_busy else 0)
        try:
            for name, workload in workloads.items():
                # Policies interleaved, so that a change in the machine's load hits both.
                times = {"torch default": [], "skvae": []}
                for _ in range(args.repeats):
                    for policy in times:
                        times[policy].append(fit_seconds(workload, policy))
                default, chosen = (statistics.median(times[p]) for p in ("torch default", "skvae"))
                rows.append(dict(workload=name, busy=n_busy, torch_default_s=default, skvae_s=chosen,
                                 speedup=default / chosen))
                print(f"{name}, {n_busy} busy: torch default {default:.2f} s, skvae {chosen:.2f} s", flush=True)
        finally:
            for process in busy:
                process.terminate()
                process.join()
    print()
    print("| workload | busy processes | torch default threads (s) | skvae's choice (s) | speedup |")
    print("|---|---|---|---|---|")
    for row in rows:
        print(f"| {row['workload']} | {row['busy']} | {row['torch_default_s']:.2f} | {row['skvae_s']:.2f} | "
              f"{row['speedup']:.2f}x |")
    if args.output is not None:
        args.output.mkdir(parents=True, exist_ok=True)
        (args.output / "threads.json").write_text(json.dumps(rows, indent=1))
    return 0


if __name__ == "__main__":
    sys.exit(main())
