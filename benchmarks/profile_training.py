"""Where a training step's time goes: torch.profiler over VAETransformer.fit.

The workload of ``throughput.py`` at batch 128 (784 Bernoulli features,
hidden layers 256-256, latent_dim=8), profiled over one epoch's fit after
a warm-up fit. Prints the operators that take the most CPU time, divided by
the number of training steps (the fit's closing pass over the data for
``kl_per_dim_`` is included), and the share of the matrix products.

    python benchmarks/profile_training.py
    python benchmarks/profile_training.py --quick    # a smoke run for the tests
"""

import argparse
import warnings

from sklearn.exceptions import ConvergenceWarning
from throughput import HIDDEN, LATENT, digits_784
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
    with profile(activities=[ProfilerActivity.CPU]) as prof:
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


if __name__ == "__main__":
    main()
