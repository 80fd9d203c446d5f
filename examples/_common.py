"""What the example scripts share: command line, quick mode, data and saving.

Each example is run as ``python examples/NAME.py [--output DIR] [--quick]``;
``SKVAE_EXAMPLES_QUICK=1`` in the environment also switches quick mode on.
"""

import argparse
import os
import warnings
from pathlib import Path

import matplotlib

matplotlib.use("Agg")  # the examples write files; no display is assumed

import matplotlib.pyplot as plt  # noqa: E402
from sklearn.datasets import load_digits  # noqa: E402
from sklearn.exceptions import ConvergenceWarning  # noqa: E402

QUICK_ENV = "SKVAE_EXAMPLES_QUICK"
DOCS = Path(__file__).resolve().parents[1] / "docs"
SEED = 0

# Quick mode exercises every line of a script in seconds; it trains nothing
# worth looking at.
QUICK_ROWS = 300
QUICK_MODEL = {"hidden_layer_sizes": (16,), "max_iter": 2}

__all__ = ["SEED", "digits", "model_params", "plt", "save", "setup"]


def setup(description):
    """Parse the command line; return ``(output_dir, quick)``."""
    parser = argparse.ArgumentParser(description=description)
    parser.add_argument(
        "--output", type=Path, default=DOCS, help="folder for the PNG (default: docs/)"
    )
    parser.add_argument(
        "--quick", action="store_true", help=f"tiny, fast setting; same as {QUICK_ENV}=1"
    )
    args = parser.parse_args()
    quick = args.quick or os.environ.get(QUICK_ENV, "0") not in ("", "0")
    # Every script fixes its epoch budget so that it finishes in seconds;
    # stopping at max_iter is the plan, not a problem to warn about.
    warnings.filterwarnings("ignore", category=ConvergenceWarning)
    return args.output, quick


def digits(quick):
    """load_digits with pixels scaled to [0, 1], as likelihood="bernoulli" needs."""
    X, y = load_digits(return_X_y=True)
    X = X / 16
    if quick:
        # load_digits cycles through the classes, so any prefix holds all ten.
        return X[:QUICK_ROWS], y[:QUICK_ROWS]
    return X, y


def model_params(quick, **full):
    """Keyword arguments for an estimator: ``full``, shrunk in quick mode."""
    return {**full, "random_state": SEED, **(QUICK_MODEL if quick else {})}


def save(fig, output, script):
    """Write ``fig`` as ``output/<script's name>.png`` and say where."""
    output.mkdir(parents=True, exist_ok=True)
    path = output / f"{Path(script).stem}.png"
    fig.savefig(path, dpi=120, bbox_inches="tight")
    plt.close(fig)
    print(f"wrote {path}")
    return path
