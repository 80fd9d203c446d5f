"""Where a short fit's time goes outside the training steps: wall time by phase.

``throughput.py`` times whole 3-epoch fits of the 784-256-256-8 Bernoulli
VAE and autoencoder (5,000 rows, batch 128) against a plain PyTorch loop.
A fit also checks X, measures its columns, checks the model's health
before and after training, takes the fitted statistics and, for the VAE,
fits the code mixture that ``sample`` draws from (``skvae._prior``). This
script times each of those phases by wrapping the functions that run them,
over several fits of the same workload, beside the tutorial
``DataLoader`` loop's 3 epochs, and prints the median of each.

    python benchmarks/fit_phases.py
    python benchmarks/fit_phases.py --quick    # a smoke run for the tests
"""

import argparse
import statistics
import time
from collections import defaultdict

from throughput import digits_784, skvae_fit, tutorial_fit

from skvae import AutoencoderTransformer, VAETransformer, _base, _prior

# (owner, attribute, label): what each phase runs.
PHASES = (
    (_base.BaseAutoencoder, "_validate_fit", "check X and the parameters"),
    (_base.BaseAutoencoder, "_build", "measure the columns, build the model"),
    (_base.BaseAutoencoder, "_training_rows", "encode the rows for training"),
    (_base.BaseAutoencoder, "_check_health", "health checks (before and after)"),
    (_base, "train", "training steps"),
    (_base.BaseAutoencoder, "_finish", "finish (statistics, checks, mixture)"),
    (_base, "fit_code_mixture", "  code mixture (encode + EM)"),
    (_prior, "gaussian_mixture", "    EM"),
)


def timed_phases(fit, repeats):
    """Median seconds of each phase and of the whole ``fit()`` over ``repeats`` calls."""
    seconds = defaultdict(list)
    current = defaultdict(float)
    originals = [(owner, name, getattr(owner, name)) for owner, name, _ in PHASES]

    def wrapped(function, label):
        def run(*args, **kwargs):
            start = time.perf_counter()
            try:
                return function(*args, **kwargs)
            finally:
                current[label] += time.perf_counter() - start
        return run

    for (owner, name, label), (_, _, function) in zip(PHASES, originals):
        setattr(owner, name, wrapped(function, label))
    try:
        fit()  # warm-up
        for _ in range(repeats):
            current.clear()
            start = time.perf_counter()
            fit()
            seconds["whole fit"].append(time.perf_counter() - start)
            for _, _, label in PHASES:
                seconds[label].append(current[label])
    finally:
        for owner, name, function in originals:
            setattr(owner, name, function)
    return {label: statistics.median(values) for label, values in seconds.items()}


def main(argv=None):
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--quick", action="store_true", help="tiny sizes: a smoke test, not a measurement")
    args = parser.parse_args(argv)
    n_rows, repeats = (300, 1) if args.quick else (5000, 5)
    X = digits_784(n_rows)
    options = {"likelihood": "bernoulli", "batch_size": 128, "epochs": 1 if args.quick else 3}
    loop = []
    tutorial_fit(X, variational=True, loader="dataloader", **options)  # warm-up: torch.optim's first import
    for _ in range(repeats):
        start = time.perf_counter()
        tutorial_fit(X, variational=True, loader="dataloader", **options)
        loop.append(time.perf_counter() - start)
    print(f"{n_rows} rows of 784 Bernoulli features, batch 128, {options['epochs']} epochs; "
          f"median of {repeats} fits after a warm-up\n")
    print(f"tutorial VAE, DataLoader loop: {statistics.median(loop):.3f} s\n")
    print("| phase | " + " | ".join(e.__name__ for e in (VAETransformer, AutoencoderTransformer)) + " |")
    print("|---|---|---|")
    results = [timed_phases(lambda e=e: skvae_fit(e, X, **options), repeats)
               for e in (VAETransformer, AutoencoderTransformer)]
    for label in ["whole fit"] + [label for _, _, label in PHASES]:
        print(f"| {label} | " + " | ".join(f"{r.get(label, 0.0):.3f} s" for r in results) + " |")


if __name__ == "__main__":
    main()
