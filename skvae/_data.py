"""Data on its way in and out: checks, the input scaling, the device, chunked row-independent evaluation.

Data flows one way: numpy in -> validate -> float32 (standardised) ->
model -> float32 -> numpy out in the caller's dtype.
"""

from dataclasses import dataclass

import numpy as np
import torch

FLOAT_DTYPES = (np.float64, np.float32)

# Evaluation runs the model on chunks of at most this many rows, each padded
# to a multiple of EVAL_ROW_MULTIPLE. A CPU matrix product picks another
# kernel, with another summation order, for a handful of rows than for
# many: measured with MKL at 1 and 2 threads, chunks of 1, 2, 3, 5, 7 or 9
# rows round a row differently, while every multiple of 4 from 4 to 1024
# (and 2048 to 16384) gives it the same bits (with layer widths padded too,
# see skvae.nn.layers.Linear). Multiples of 8 keep a margin. So a row's
# output is bitwise independent of the rows it arrives with, and one row
# costs an 8-row pass, not a 1024-row one.
EVAL_CHUNK_ROWS = 1024
EVAL_ROW_MULTIPLE = 8

# Rows per block when statistics are computed over the training data, to
# bound temporary memory.
STAT_BLOCK_ROWS = 4096

FLOAT32_MAX = float(np.finfo(np.float32).max)


def row_blocks(X):
    """Consecutive blocks of rows of a tensor or array."""
    if isinstance(X, torch.Tensor):
        return X.split(STAT_BLOCK_ROWS)
    return [X[start : start + STAT_BLOCK_ROWS] for start in range(0, X.shape[0], STAT_BLOCK_ROWS)]


@dataclass(frozen=True, eq=False)
class Scaling:
    """Per-feature standardisation ``(x - mean) / scale``, or none (both None).

    The one place X is standardised: training, evaluation and decoding all
    go through ``standardised_float32`` and ``destandardised``, so every
    path sees bitwise the same standardised rows. Both compute in float64.
    """

    mean: np.ndarray | None = None
    scale: np.ndarray | None = None
    resolution: np.ndarray | None = None

    @classmethod
    def fit(cls, X):
        """Mean and scale of each column of X, in float64 blocks (no full-size temporary).

        A constant feature keeps scale 1, with StandardScaler's test of
        constancy: a variance within rounding error of zero, relative to the
        variance and the mean.
        """
        n_samples = X.shape[0]
        # Each column divided by its largest magnitude first: squares of
        # values near 1e300 would overflow, and a column's scale become inf.
        magnitude = np.zeros(X.shape[1])
        for block in row_blocks(X):
            magnitude = np.maximum(magnitude, np.abs(block).max(axis=0, initial=0.0))
        magnitude[magnitude < 1e100] = 1.0  # elsewhere the division only costs rounding
        total = np.zeros(X.shape[1])
        for block in row_blocks(X):
            total += (block / magnitude).sum(axis=0, dtype=np.float64)
        mean = total / n_samples
        squares = np.zeros(X.shape[1])
        for block in row_blocks(X):
            centred = block.astype(np.float64) / magnitude - mean
            squares += np.einsum("ij,ij->j", centred, centred)
        variance = squares / n_samples
        eps = np.finfo(np.float64).eps
        constant = variance <= n_samples * eps * variance + (n_samples * mean * eps) ** 2
        scale = np.sqrt(variance) * magnitude
        scale[constant] = 1.0
        mean = mean * magnitude
        return cls(mean, scale, resolution(X))

    def variance_floor(self):
        """Per-feature floor on a learned noise variance, in standardised units: ``resolution**2 / 12``.

        Values recorded at a resolution (pixels in steps of 1/16, counts,
        rounded measurements) cannot tell apart noise variances below the
        rounding's own, Delta**2 / 12 for a step Delta (the variance of a
        uniform rounding error; Theis et al. 2016). Without this floor a
        near-constant feature's variance collapses towards 0 and one unusual
        value then costs a held-out row tens of nats. Continuous data have
        tiny steps, so the floor leaves them alone. A feature constant in
        training has no step to measure; as StandardScaler gives it scale 1,
        it gets step 1, in its own units: a value it never took in training
        then costs a held-out row a finite, if large, amount.
        """
        if self.resolution is None:
            return None
        step = np.where(np.isnan(self.resolution), 1.0, self.resolution) / self.scale
        return step**2 / 12.0

    @property
    def log_jacobian(self):
        """``sum(log scale)``: log p(x) = log p(standardised x) - log_jacobian."""
        return 0.0 if self.scale is None else float(np.log(self.scale).sum())

    @property
    def log_scale(self):
        """``log(scale)`` as a float32 tensor, or None."""
        return None if self.scale is None else torch.as_tensor(np.log(self.scale), dtype=torch.float32)

    def standardised_float32(self, block, out=None, first_row=0):
        """``(block - mean) / scale`` in float64, then cast to float32 (into ``out`` if given).

        Standardising before the cast keeps what float32 would round away:
        a column of Unix timestamps (offset 1.7e9, spread 1) would otherwise
        collapse to one value. Values that do not fit in float32, before or
        after standardising, are an error naming the column: the model
        computes in float32.
        """
        values = block if self.mean is None else (block.astype(np.float64) - self.mean) / self.scale
        if out is None:
            out = np.empty(block.shape, dtype=np.float32)
        with np.errstate(over="ignore"):
            out[...] = values
        if not np.isfinite(out).all():
            row, column = np.argwhere(~np.isfinite(out))[0]
            value = block[row, column]
            standardised = "" if self.mean is None else f", {values[row, column]:.3g} once standardised,"
            raise ValueError(
                f"X[{first_row + row}, {column}] = {value:.3g}{standardised} is beyond float32's "
                f"range (+-{FLOAT32_MAX:.3g}), in which the model computes. Rescale column {column} "
                "(e.g. StandardScaler, or a log transform), or drop the row."
            )
        return out

    def destandardised(self, values, dtype):
        """Map standardised float32 values back to X's units, in float64, as ``dtype``."""
        if self.mean is None:
            return values.astype(dtype, copy=False)
        return (values.astype(np.float64) * self.scale + self.mean).astype(dtype, copy=False)

    def to_float32(self, X):
        """A standardised float32 copy of X, made block by block."""
        X32 = np.empty(X.shape, dtype=np.float32)
        for start in range(0, X.shape[0], STAT_BLOCK_ROWS):
            block = X[start : start + STAT_BLOCK_ROWS]
            self.standardised_float32(block, X32[start : start + STAT_BLOCK_ROWS], first_row=start)
        return X32


def resolution(X, max_rows=10_000):
    """Each column's smallest gap between distinct values, on up to ``max_rows`` rows; NaN for fewer than 2 values.

    Rows are taken at an even stride, so the estimate costs the same for
    any number of rows.
    """
    stride = max(1, -(-X.shape[0] // max_rows))
    sample = np.sort(np.asarray(X[::stride], dtype=np.float64), axis=0)
    gaps = np.diff(sample, axis=0)
    gaps[gaps <= 0] = np.inf
    smallest = gaps.min(axis=0, initial=np.inf)
    smallest[np.isinf(smallest)] = np.nan
    return smallest


def check_support(X, name, likelihood, column=None):
    """Raise a clear ``ValueError`` if X (or one ``column`` of it) holds values outside ``likelihood.support``."""
    low, high = likelihood.support
    if X.size == 0 or (low == -np.inf and high == np.inf):
        return
    # A plain view: np.nanmin copies any ndarray subclass (a memmap of X, say) whole.
    X = np.asarray(X)
    smallest, largest = np.nanmin(X), np.nanmax(X)
    if smallest < low or largest > high:
        where = "X" if column is None else f"column {column!r}"
        raise ValueError(
            f'likelihood="{name}" needs {where} in [{low:g}, {high:g}]; got min={smallest:.3g}, '
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


def map_rows(X, fn, n_outputs, *, device, encode=None, decode=None, extra_columns=None, width=None,
             chunk_rows=EVAL_CHUNK_ROWS):
    """``fn`` over chunks of X's rows, each padded to a multiple of ``EVAL_ROW_MULTIPLE``; numpy out.

    ``encode(block, first_row)`` turns a block of X's rows into float32
    model rows (None: X is float already, e.g. codes); ``extra_columns``
    (a conditional model's conditions) go in front of them. ``fn`` maps the
    padded float32 tensor to one output row per row, and ``decode`` (None:
    a cast to X's dtype) maps those back: to an array, or a DataFrame whose
    chunks are joined. An output that is not finite is a clear error.
    ``chunk_rows`` (a multiple of ``EVAL_ROW_MULTIPLE``) bounds a chunk,
    for wide data.
    """
    out_dtype = X.dtype if isinstance(X, np.ndarray) and X.dtype in (np.float32, np.float64) else np.float64
    chunks = []
    staging = None
    if width is not None and extra_columns is None:
        # Rows are encoded straight into one reused buffer: no copy per chunk.
        staging = np.zeros((padded_rows(min(X.shape[0], chunk_rows)), width), dtype=np.float32)
    with torch.inference_mode():
        for start in range(0, X.shape[0], chunk_rows):
            stop = min(start + chunk_rows, X.shape[0])
            n = stop - start
            block = X.iloc[start:stop] if hasattr(X, "iloc") else X[start:stop]
            view = None
            if staging is not None and encode is not None:
                view = staging[:n]
                rows = encode(block, out=view, first_row=start)
            else:
                rows = encode(block, first_row=start) if encode is not None else np.asarray(block, dtype=np.float32)
                if extra_columns is not None:
                    rows = np.concatenate([extra_columns[start:stop], rows], axis=1)
            if rows is view:
                padded = staging[: padded_rows(n)]
            else:  # the rows came out wider than planned (holes), or no buffer was planned
                padded = np.zeros((padded_rows(n), rows.shape[1]), dtype=np.float32)
                padded[:n] = rows
            result = fn(torch.from_numpy(padded).to(device))[:n].cpu().numpy()
            with np.errstate(over="ignore", invalid="ignore"):
                chunk = decode(result) if decode is not None else result.astype(out_dtype)
            _check_finite(chunk, rows, start)
            chunks.append(chunk)
    if chunks and hasattr(chunks[0], "iloc"):
        import pandas as pd

        return pd.concat(chunks)
    if not chunks:
        return np.empty((0, n_outputs), dtype=out_dtype)
    return np.concatenate(chunks).astype(out_dtype, copy=False)


def _check_finite(out, rows, first_row):
    values = out.to_numpy() if hasattr(out, "to_numpy") else out
    if values.dtype.kind not in "fc":
        return
    bad = ~np.isfinite(values.reshape(values.shape[0], -1)).all(axis=1)
    if bad.any():
        row = int(np.argmax(bad))
        extreme = float(np.abs(rows[row]).max())
        raise ValueError(
            f"Row {first_row + row} is beyond what the model's float32 arithmetic can evaluate: "
            f"it lies {extreme:.3g} standard deviations (or units) from the training data, and "
            "the networks overflowed on it. Check that row, or rescale X."
        )


def padded_rows(n_rows):
    """Rows of the evaluation chunk that holds ``n_rows`` (at most ``EVAL_CHUNK_ROWS``) rows."""
    n_rows = min(max(n_rows, 1), EVAL_CHUNK_ROWS)
    return -(-n_rows // EVAL_ROW_MULTIPLE) * EVAL_ROW_MULTIPLE
