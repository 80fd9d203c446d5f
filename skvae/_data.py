"""Data on its way in and out: checks, the input scaling, the device, chunked row-independent evaluation.

Data flows one way: numpy in -> validate -> float32 (standardised) ->
model -> float32 -> numpy out in the caller's dtype.
"""

from dataclasses import dataclass
from functools import cached_property

import numpy as np
import torch

FLOAT_DTYPES = (np.float64, np.float32)

# Evaluation runs the model on chunks of exactly this many rows, padding the
# last one. A CPU matrix product picks a different kernel, with a different
# summation order, for a handful of rows than for many; a fixed chunk shape,
# with the layer widths padded too (see ``skvae.nn.layers.Linear``), makes
# each row's output bitwise independent of the batch it arrives in.
EVAL_CHUNK_ROWS = 1024

# Rows per block when statistics are computed over the training data, to
# bound temporary memory.
STAT_BLOCK_ROWS = 4096


def row_blocks(X):
    """Consecutive blocks of rows of a tensor or array."""
    if isinstance(X, torch.Tensor):
        return X.split(STAT_BLOCK_ROWS)
    return [X[start : start + STAT_BLOCK_ROWS] for start in range(0, X.shape[0], STAT_BLOCK_ROWS)]


@dataclass(frozen=True, eq=False)
class Scaling:
    """Per-feature standardisation ``(x - mean) / scale``, or none (both None).

    The one place X is standardised: training, evaluation and decoding all
    go through ``standardise_`` and ``destandardise_``, so every path sees
    bitwise the same standardised rows.
    """

    mean: np.ndarray | None = None
    scale: np.ndarray | None = None

    @classmethod
    def fit(cls, X):
        """Mean and scale of each column of X, in float64 blocks (no full-size temporary).

        A constant feature keeps scale 1, with StandardScaler's test of
        constancy: a variance within rounding error of zero, relative to the
        variance and the mean.
        """
        n_samples = X.shape[0]
        total = np.zeros(X.shape[1])
        for block in row_blocks(X):
            total += block.sum(axis=0, dtype=np.float64)
        mean = total / n_samples
        squares = np.zeros(X.shape[1])
        for block in row_blocks(X):
            centred = block.astype(np.float64) - mean
            squares += np.einsum("ij,ij->j", centred, centred)
        variance = squares / n_samples
        eps = np.finfo(np.float64).eps
        constant = variance <= n_samples * eps * variance + (n_samples * mean * eps) ** 2
        scale = np.sqrt(variance)
        scale[constant] = 1.0
        return cls(mean, scale)

    @property
    def log_jacobian(self):
        """``sum(log scale)``: log p(x) = log p(standardised x) - log_jacobian."""
        return 0.0 if self.scale is None else float(np.log(self.scale).sum())

    @property
    def log_scale(self):
        """``log(scale)`` as a float32 tensor, or None."""
        return None if self.scale is None else torch.as_tensor(np.log(self.scale), dtype=torch.float32)

    @cached_property
    def _float32(self):
        return (
            self.mean.astype(np.float32),
            self.scale.astype(np.float32),
            (1.0 / self.scale).astype(np.float32),
        )

    def standardise_(self, block):
        """Standardise a float32 array in place."""
        if self.mean is not None:
            mean, _, inverse_scale = self._float32
            block -= mean
            block *= inverse_scale
        return block

    def destandardise_(self, block):
        """Map a float32 array of standardised values back to X's units, in place."""
        if self.mean is not None:
            mean, scale, _ = self._float32
            block *= scale
            block += mean
        return block

    def to_float32(self, X):
        """A standardised float32 copy of X, made block by block."""
        X32 = np.array(X, dtype=np.float32, order="C", copy=True)
        for block in row_blocks(X32):
            self.standardise_(block)
        return X32


def check_support(X, name, likelihood):
    """Raise a clear ``ValueError`` if X holds values outside ``likelihood.support``."""
    low, high = likelihood.support
    if X.size == 0 or (low == -np.inf and high == np.inf):
        return
    smallest, largest = X.min(), X.max()
    if smallest < low or largest > high:
        raise ValueError(
            f'likelihood="{name}" needs X in [{low:g}, {high:g}]; got min={smallest:.3g}, '
            f"max={largest:.3g}. {likelihood.support_hint}"
        )


def resolve_device(device, fitting=False):
    """The torch device for an estimator's ``device`` parameter."""
    cuda = torch.cuda.is_available()
    if device == "auto":
        return torch.device("cuda" if cuda else "cpu")
    if device == "cuda" and not cuda:
        if fitting:
            raise ValueError(
                'device="cuda" but torch.cuda.is_available() is False. '
                'Use device="cpu", or device="auto" to take a GPU when there is one.'
            )
        # A model trained on a GPU and loaded on a CPU-only machine still works.
        return torch.device("cpu")
    return torch.device(device)


def map_rows(X, fn, n_outputs, *, device, scaling_in=None, scaling_out=None, extra_columns=None):
    """``fn`` over fixed-size chunks of X's rows; numpy out in X's dtype.

    ``fn`` takes a float32 tensor of ``EVAL_CHUNK_ROWS`` rows (standardised
    by ``scaling_in``, followed by the rows of ``extra_columns`` if given:
    a conditional model's conditions) and returns ``(EVAL_CHUNK_ROWS,
    n_outputs)``, mapped back by ``scaling_out``. Rows past the end of X in
    the last chunk hold stale, finite values and are dropped.
    """
    n_extra = 0 if extra_columns is None else extra_columns.shape[1]
    n_features = X.shape[1]
    out = np.empty((X.shape[0], n_outputs), dtype=X.dtype)
    staging = torch.zeros((EVAL_CHUNK_ROWS, n_features + n_extra), dtype=torch.float32)
    staging_numpy = staging.numpy()
    with torch.inference_mode():
        for start in range(0, X.shape[0], EVAL_CHUNK_ROWS):
            stop = min(start + EVAL_CHUNK_ROWS, X.shape[0])
            rows = staging_numpy[: stop - start, :n_features]
            rows[...] = X[start:stop]
            if scaling_in is not None:
                scaling_in.standardise_(rows)
            if n_extra:
                staging_numpy[: stop - start, n_features:] = extra_columns[start:stop]
            result = fn(staging.to(device))[: stop - start].cpu().numpy()
            if scaling_out is not None:
                scaling_out.destandardise_(result)
            out[start:stop] = result
    return out
