"""Where a training step's time goes: torch.profiler over VAETransformer.fit.

The workload of ``throughput.py`` at batch 128 (784 Bernoulli features,
hidden layers 256-256, latent_dim=8), profiled over one epoch's fit after
a warm-up fit. Prints the operators that take the most CPU time, divided by
the number of training steps (the fit's closing pass over the data for
``kl_per_dim_`` is included), and the share of the matrix products.

Then an estimate of the ceiling: the step's own matrix products (every
``mm`` and ``addmm`` the profile recorded, with its shapes, the closing
pass's included) run back to back with nothing else between them, their
GFLOP/s as a share of this machine's 2048^3 matmul throughput
(``throughput.matmul_gflops``). Not a strict bound: each call gets fresh
contiguous operands, where training reuses its weights and passes
transposed views.

    python benchmarks/profile_training.py
    python benchmarks/profile_training.py --quick    # a smoke run for the tests
"""

import argparse
import warnings

import torch
from sklearn.exceptions import ConvergenceWarning
from throughput import HIDDEN, LATENT, best_gflops, digits_784, matmul_gflops
from torch.profiler import ProfilerActivity, profile

from skvae import VAETransformer

MATRIX_PRODUCTS = ("aten::mm", "aten::addmm")


def main(argv=None):
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--quick", action="store_true", help="tiny sizes: a smoke test, not a measurement")
    args = parser.parse_args(argv)
    n_rows, batch_size = (256, 128) if args.quick else (5000, 128)
    X = digits_784(n_rows)
    vae = VAETransformer(
        LATENT, hidden_layer_sizes=HIDDEN, likelihood="bernoulli", batch_size=batch_size,
        max_iter=1, kl_warmup=0, random_state=0,
    )
    warnings.simplefilter("ignore", ConvergenceWarning)
    vae.fit(X)  # warm-up: first-call imports and kernel selection stay out of the profile
    with profile(activities=[ProfilerActivity.CPU], record_shapes=True) as prof:
        vae.fit(X)
    n_steps = -(-n_rows // batch_size)
    events = prof.key_averages()
    total_us = sum(e.self_cpu_time_total for e in events)
    print(f"VAETransformer.fit, 784-{'-'.join(map(str, HIDDEN))}-{LATENT}, batch {batch_size}, "
          f"{n_steps} steps: {total_us / n_steps / 1e3:.2f} ms of operator self time per step")
    print("| operator | ms per step | share |")
    print("|---|---|---|")
    for event in sorted(events, key=lambda e: -e.self_cpu_time_total)[:12]:
        share = event.self_cpu_time_total / total_us
        print(f"| {event.key} | {event.self_cpu_time_total / n_steps / 1e3:.3f} | {share:.0%} |")
    products = sum(e.self_cpu_time_total for e in events if e.key in MATRIX_PRODUCTS)
    print(f"matrix products (mm, addmm): {products / total_us:.0%} of operator self time")
    seconds = 0.2 if args.quick else 2.0
    alone = products_alone_gflops(prof, seconds)
    peak = matmul_gflops(seconds)
    print(f"the same products alone, back to back: {alone:.1f} GFLOP/s, {alone / peak:.0%} of the "
          f"{peak:.1f} GFLOP/s of 2048^3 products (torch threads {torch.get_num_threads()})")


def products_alone_gflops(prof, seconds):
    """GFLOP/s of every matrix product ``prof`` recorded, replayed in turn on preallocated outputs.

    Outputs are preallocated so that the timing holds the products only:
    a fresh output per call can page-fault on every call, which a fit that
    reuses its buffers does not.
    """
    calls = []
    for event in prof.events():
        if event.name not in MATRIX_PRODUCTS:
            continue
        shapes = event.input_shapes
        a, b = (shapes[0], shapes[1]) if event.name == "aten::mm" else (shapes[1], shapes[2])
        left, right = torch.randn(*a), torch.randn(*b)
        out = torch.empty(a[0], b[1])
        bias = torch.randn(b[1]) if event.name == "aten::addmm" else None
        calls.append((left, right, out, bias, 2 * a[0] * a[1] * b[1]))

    def replay():
        for left, right, out, bias, _ in calls:
            if bias is None:
                torch.mm(left, right, out=out)
            else:
                torch.addmm(bias, left, right, out=out)

    return best_gflops(replay, sum(call[-1] for call in calls), seconds)


if __name__ == "__main__":
    main()
