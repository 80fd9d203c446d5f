import os

# scikit-learn runs its array-API estimator check only when SciPy's array API
# support is switched on; it must be set before scipy is first imported.
os.environ.setdefault("SCIPY_ARRAY_API", "1")
# pytest-xdist runs one worker per core: each worker's torch takes one thread,
# or the workers' threads would outnumber the cores several times over.
if "PYTEST_XDIST_WORKER" in os.environ:
    os.environ.setdefault("OMP_NUM_THREADS", "1")

import sys  # noqa: E402
from pathlib import Path  # noqa: E402

import numpy as np  # noqa: E402
import pytest  # noqa: E402
from sklearn.datasets import load_digits  # noqa: E402

from skvae import AutoencoderTransformer, VAETransformer  # noqa: E402

# Tests share the reference experiments of benchmarks/ rather than copy them.
sys.path.insert(0, str(Path(__file__).resolve().parents[1] / "benchmarks"))

ESTIMATORS = [VAETransformer, AutoencoderTransformer]


def _convolutional(Estimator):
    """``Estimator`` reading the 6 columns of ``tabular`` as a 2 x 3 image."""

    def make(*args, **params):
        return Estimator(*args, **{"image_shape": (2, 3), "conv_channels": (4,), **params})

    make.__name__ = Estimator.__name__
    make.__qualname__ = f"conv {Estimator.__name__}"
    return make


# The contract tests run on the dense and the convolutional networks alike.
MODELS = pytest.mark.parametrize(
    "Estimator",
    [*ESTIMATORS, *map(_convolutional, ESTIMATORS)],
    ids=["VAE", "AE", "conv VAE", "conv AE"],
)

# Small networks and few epochs: the contract tests check behaviour, not fit quality.
SMALL = dict(hidden_layer_sizes=(16,), max_iter=5, random_state=0)


@pytest.fixture(scope="session")
def digits():
    """load_digits scaled to [0, 1]: 1797 x 64, labels 0-9."""
    X, y = load_digits(return_X_y=True)
    return X / 16.0, y


@pytest.fixture(scope="session")
def tabular():
    """Correlated Gaussian data with features of very different scales."""
    rng = np.random.RandomState(0)
    latent = rng.normal(size=(300, 3))
    X = latent @ rng.normal(size=(3, 6)) + 0.3 * rng.normal(size=(300, 6))
    return X * np.array([1e-3, 1.0, 10.0, 1e3, 5.0, 0.1]) + np.array([0, 5, -3, 1e4, 0, 2])
