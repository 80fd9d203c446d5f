import contextlib
import functools
import importlib
import io
import os
import random
import signal
import subprocess
import sys
import threading
import traceback
import warnings
from pathlib import Path

# scikit-learn runs its array-API estimator check only when SciPy's array API
# support is switched on; it must be set before scipy is first imported.
os.environ.setdefault("SCIPY_ARRAY_API", "1")
# pytest-xdist runs one worker per core: each worker's torch takes one thread,
# or the workers' threads would outnumber the cores several times over.
if "PYTEST_XDIST_WORKER" in os.environ:
    os.environ.setdefault("OMP_NUM_THREADS", "1")

import numpy as np  # noqa: E402
import pytest  # noqa: E402
import torch  # noqa: E402
from sklearn.datasets import load_digits  # noqa: E402
from threadpoolctl import threadpool_limits  # noqa: E402

from skvae import AutoencoderTransformer, VAETransformer  # noqa: E402

# Tests share the reference experiments of benchmarks/ rather than copy them.
BENCHMARKS = Path(__file__).resolve().parents[1] / "benchmarks"
sys.path.insert(0, str(BENCHMARKS))


def run_script(name, *args, cwd=None, timeout=600):
    """``python benchmarks/<name>.py *args``, run in this process: its ``main()``, with what it reads and prints.

    A fresh interpreter spends about 3 s importing torch, scikit-learn and
    skvae, as much as a smoke run's own work; the tests run some thirty.
    What a script changes in the process is put back afterwards: the
    arguments, ``sys.path``, folder and environment, torch's and the BLAS
    pools' threads, Python's, numpy's and torch's global generators, the
    warning filters. Not what a ``torch.compile`` leaves (the throughput
    benchmark's quick run compiles with the "eager" backend): fits and
    exports after it were checked bitwise the same. The scripts'
    fresh-process probes (memory, threads) still run in processes of their
    own. A run still going after ``timeout`` seconds is stopped with a
    TimeoutError (in the main thread, where signals arrive). Returns what
    ``subprocess.run`` would: the exit status (1 with the traceback in
    stderr for an exception), stdout, stderr.
    """
    out, err = io.StringIO(), io.StringIO()
    saved = (list(sys.path), sys.argv, os.getcwd(), dict(os.environ), torch.get_num_threads(),
             random.getstate(), np.random.get_state(), torch.get_rng_state())
    sys.argv = [str(BENCHMARKS / f"{name}.py"), *map(str, args)]
    timed = threading.current_thread() is threading.main_thread()
    if timed:
        def stop(signum, frame):
            raise TimeoutError(f"benchmarks/{name}.py was still running after {timeout} s")

        handler = signal.signal(signal.SIGALRM, stop)
        signal.alarm(timeout)
    try:
        with threadpool_limits(limits=None), warnings.catch_warnings(record=True) as warned, \
                contextlib.redirect_stdout(out), contextlib.redirect_stderr(err):
            try:
                if cwd is not None:
                    os.chdir(cwd)
                module = importlib.import_module(name)
                returned = module.main()
                # As `python script.py` exits: main's value where the script passes it to sys.exit.
                status = returned if "sys.exit(main())" in Path(module.__file__).read_text() else 0
            except SystemExit as exit:
                status = exit.code
            except Exception:  # noqa: BLE001 - reported as the process would report it
                traceback.print_exc()
                status = 1
    finally:
        if timed:
            signal.alarm(0)
            signal.signal(signal.SIGALRM, handler)
        path, sys.argv, folder, environment, threads, python_state, numpy_state, torch_state = saved
        sys.path[:] = path
        os.chdir(folder)
        os.environ.clear()
        os.environ.update(environment)
        torch.set_num_threads(threads)
        random.setstate(python_state)
        np.random.set_state(numpy_state)
        torch.set_rng_state(torch_state)
    for warning in warned:  # on stderr, where a process shows them
        err.write(warnings.formatwarning(warning.message, warning.category, warning.filename, warning.lineno))
    if isinstance(status, str):  # sys.exit("message")
        print(status, file=err)
        status = 1
    return subprocess.CompletedProcess([f"{name}.py", *map(str, args)], status or 0, out.getvalue(), err.getvalue())


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
def one_onnx_operator_table():
    """torch's ONNX operator table, built once for the tests that export rather than for each export.

    ``torch.onnx.export`` builds its table of how each torch operator is
    written in ONNX anew on every call, a third of a small graph's export
    (0.37 of 1.1 s); test_matrix.py alone makes 112. The table is the same
    for each export, and the files written with it shared are byte for byte
    those written without.
    """
    try:
        from torch.onnx._internal.exporter import _registration
    except ImportError:  # another torch: every export builds its own
        yield
        return
    build = vars(_registration.ONNXRegistry)["from_torchlib"]  # the classmethod itself, to put back
    _registration.ONNXRegistry.from_torchlib = classmethod(functools.cache(build.__func__))
    try:
        yield
    finally:
        _registration.ONNXRegistry.from_torchlib = build


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
