"""Data on its way in and out: the moments of columns, the device, chunked row-independent evaluation.

Data flows one way: numpy in -> validate -> the float values of X's
columns (``skvae._schema``) -> the model, whose front standardises and
encodes them (``skvae.nn.columns``) -> numpy out in the caller's dtype.
"""

import contextlib
import functools
import os
import threading
from concurrent.futures import Future, ThreadPoolExecutor
from dataclasses import dataclass

import numpy as np
import scipy.sparse as sp
import torch

from ._threads import threads_for, torch_threads
from .nn.layers import EVAL_ROW_MULTIPLE

FLOAT_DTYPES = (np.float64, np.float32)

# Evaluation runs the model on chunks of at most EVAL_CHUNK_ROWS rows, each
# padded to a multiple of EVAL_ROW_MULTIPLE (skvae.nn.layers says why), so
# that a row's output is bitwise independent of the rows it arrives with.
# One row costs a 32-row pass.
EVAL_CHUNK_ROWS = 1024
# On a GPU every chunk has this many rows, however few are real: cuBLAS
# also picks its kernel (and its split of the sums) by the number of rows,
# so only one shape keeps a row's bits its own; and a GPU pass costs its
# launches, not its rows, so larger chunks are faster (1M rows of
# 784-256-256-8 codes: benchmarks/gpu_chunks.py, docs/performance.md). The
# rows are padded on the device: a one-row call copies one row to it.
GPU_EVAL_CHUNK_ROWS = 8192
# A CPU call is split between evaluation threads only where each gets this
# many multiply-adds: a chunk handed to another thread costs about half a
# millisecond (two 64-row chunks of a 784-256-256 encoder took 1.0 ms on two
# threads, 0.5 ms one after the other on one).
MIN_WORKER_WORK = 64e6
# Fewer rows where a chunk would hold more values than this, inputs or
# outputs, so that wide data do not take gigabytes of the GPU per chunk;
# the shape is still one per model and method (gpu_chunk_rows).
GPU_EVAL_VALUES = 2**23

# Rows per block when statistics are computed over the training data, to
# bound temporary memory.
STAT_BLOCK_ROWS = 4096

FLOAT32_MAX = float(np.finfo(np.float32).max)


def in_float_range(values, dtype, copy=True):
    """Float64 ``values`` within a narrower float ``dtype``'s range, as an integer column is clipped to its own.

    A cast would make what lies beyond infinite: float16 overflows at 65,504.
    ``copy=False`` clips ``values`` in place.
    """
    if dtype.kind != "f" or dtype.itemsize >= 8:
        return values
    largest = float(np.finfo(dtype).max)
    return np.clip(values, -largest, largest, out=None if copy else values)


def sparse_holes(X):
    """A CSR matrix of X's shape holding 1.0 where sparse X stores a NaN (its holes), nothing elsewhere."""
    X = sp.csr_matrix(X)
    # Index arrays of its own: eliminate_zeros rewrites them in place, and X's would change under X.
    holes = sp.csr_matrix((np.isnan(X.data).astype(np.float64), X.indices.copy(), X.indptr.copy()), shape=X.shape)
    holes.eliminate_zeros()
    return holes


def row_blocks(X):
    """Consecutive blocks of rows of a tensor or array, each read when it is reached."""
    if isinstance(X, torch.Tensor):
        return X.split(STAT_BLOCK_ROWS)
    # A generator: a reader that computes its blocks (the statistics' _ReadColumns) held them all at
    # once in a list, a float64 copy of X (a fit's peak 0.68 -> 2.5 times a float32 memmap).
    return (X[start : start + STAT_BLOCK_ROWS] for start in range(0, X.shape[0], STAT_BLOCK_ROWS))


def columns_where(X, test):
    """Which columns of X (an array) hold an entry that ``test``, elementwise, marks; a block of rows at a time.

    No boolean temporary of X's size: on a memmap, which is read a block at
    a time, one was a quarter of a float32 X (1 GiB of a 4.1 GiB file).
    """
    found = np.zeros(X.shape[1], dtype=bool)
    for block in row_blocks(X):
        found |= test(block).any(axis=0)
    return found


@dataclass(frozen=True, eq=False)
class Scaling:
    """Per-feature moments ``mean`` and ``scale`` (and value ``resolution``), or none (both None).

    The model's front holds its columns' statistics itself (fitted from
    these, ``skvae._statistics``); here ``standardised_float32`` serves the
    numeric covariates of a conditional model.
    """

    mean: np.ndarray | None = None
    scale: np.ndarray | None = None
    resolution: np.ndarray | None = None

    @classmethod
    def fit(cls, X):
        """Mean and scale of each column of X, in float64 blocks (no full-size temporary).

        A constant feature keeps scale 1 (``scale_of``).
        """
        n_samples = X.shape[0]
        # Each column divided by its largest magnitude first: squares of
        # values near 1e300 would overflow, and a column's scale become inf;
        # those of values near 1e-200 underflow, and the column pass for constant.
        magnitude = np.zeros(X.shape[1])
        for block in row_blocks(X):
            magnitude = np.maximum(magnitude, np.abs(block).max(axis=0, initial=0.0))
        magnitude = rescaling(magnitude)
        total = np.zeros(X.shape[1])
        for block in row_blocks(X):
            total += (block / magnitude).sum(axis=0, dtype=np.float64)
        mean = total / n_samples
        squares, deviations = np.zeros(X.shape[1]), np.zeros(X.shape[1])
        for block in row_blocks(X):
            centred = block.astype(np.float64) / magnitude - mean
            squares += np.einsum("ij,ij->j", centred, centred)
            deviations += centred.sum(axis=0)
        scale = scale_of(squares / n_samples, deviations / n_samples, n_samples, magnitude)
        mean = mean * magnitude
        return cls(mean, scale, resolution(X))

    def standardised_float32(self, block, out=None, first_row=0, name="X"):
        """``(block - mean) / scale`` in float64, then cast to float32 (into ``out`` if given).

        Standardising before the cast keeps what float32 would round away:
        a column of Unix timestamps (offset 1.7e9, spread 1) would otherwise
        collapse to one value. Values that do not fit in float32, before or
        after standardising, are an error naming the column: the model
        computes in float32. ``name`` is the array's in that message.
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
                f"{name}[{first_row + row}, {column}] = {value:.3g}{standardised} is beyond float32's "
                f"range (+-{FLOAT32_MAX:.3g}), in which the model computes. Rescale column {column} "
                "(e.g. StandardScaler, or a log transform), or drop the row."
            )
        return out

    def to_float32(self, X, name="X"):
        """A standardised float32 copy of X, made block by block (``name``: X's in errors)."""
        X32 = np.empty(X.shape, dtype=np.float32)
        for start in range(0, X.shape[0], STAT_BLOCK_ROWS):
            block = X[start : start + STAT_BLOCK_ROWS]
            self.standardised_float32(block, X32[start : start + STAT_BLOCK_ROWS], first_row=start, name=name)
        return X32


def rescaling(magnitude):
    """What to divide columns of these largest magnitudes by before squaring: 1 unless beyond 1e100 or below 1e-100."""
    magnitude = np.asarray(magnitude, dtype=np.float64).copy()
    # Between the bounds the division would only cost rounding.
    magnitude[((magnitude < 1e100) & (magnitude > 1e-100)) | (magnitude == 0) | ~np.isfinite(magnitude)] = 1.0
    return magnitude


def scale_of(mean_square, mean_deviation, n_samples, magnitude=1.0):
    """Standard deviations from two-pass moments; 1 for a constant column.

    ``mean_square`` is the mean squared deviation of each column's values
    from their computed mean, ``mean_deviation`` the mean deviation (both
    may be in units of ``magnitude``; the scale comes back in X's units).
    Rounding leaves the computed mean off by some delta, which adds
    delta**2 to the mean square; a constant column's deviations all equal
    delta, so subtracting the squared mean deviation leaves rounding error
    alone. (StandardScaler's test bounds delta by n * eps * |mean|, its
    worst case, and so judged a column at 1e15 with a spread of 300 over
    3,000 rows constant: the model then read its values unscaled.)
    """
    eps = np.finfo(np.float64).eps
    variance = mean_square - mean_deviation**2
    constant = variance <= 4 * n_samples * eps * mean_square
    # delta**2 taken away only where it shows (a column far from 0 for its spread, 1e15 with a
    # spread of 0.3 read 0.48): elsewhere the mean square's bits, as scales always had them.
    scale = np.sqrt(np.where(mean_deviation**2 > eps * mean_square, variance, mean_square)) * magnitude
    scale[constant] = 1.0
    return scale


# Resolution is measured on at most this many rows, taken at an even stride, so that it costs the same
# for any number of rows.
RESOLUTION_ROWS = 10_000


def resolution_stride(n_rows):
    """The stride of the rows ``resolution`` reads: the same rows of a dense and a sparse X."""
    return max(1, -(-n_rows // RESOLUTION_ROWS))


def resolution(X):
    """Each column's smallest gap between distinct values, on the rows ``resolution_stride`` gives; NaN for fewer than 2 values."""
    sample = np.sort(np.asarray(X[:: resolution_stride(X.shape[0])], dtype=np.float64), axis=0)
    gaps = np.diff(sample, axis=0)
    gaps[gaps <= 0] = np.inf
    smallest = gaps.min(axis=0, initial=np.inf)
    smallest[np.isinf(smallest)] = np.nan
    return smallest


def resolve_device(device, fitting=False):
    """The torch device for an estimator's ``device`` parameter."""
    cuda = torch.cuda.is_available()
    if device == "auto":
        device = "cuda" if cuda else "cpu"
    if device == "cuda" and not cuda:
        if fitting:
            raise ValueError(
                'device="cuda" but torch.cuda.is_available() is False. '
                'Use device="cpu", or device="auto" to take a GPU when there is one.'
            )
        # A model trained on a GPU and loaded on a CPU-only machine still works.
        return torch.device("cpu")
    resolved = torch.device(device)
    if resolved.type == "cuda" and resolved.index is None:
        # "cuda" is the current device, named by its index as the model's tensors on it are: "cuda"
        # and "cuda:0" compare unequal, and a fitted model was moved again at every call.
        resolved = torch.device("cuda", torch.cuda.current_device())
    return resolved


def _default_device_is_cpu():
    try:
        return torch.get_default_device().type == "cpu"
    except AttributeError:  # an older torch's, after set_default_device(None) beside another mode
        return True


def on_cpu_by_default(function):
    """``function`` with torch's default device the CPU, where skvae makes its tensors before it moves them.

    A caller's ``torch.set_default_device`` (a notebook's "cuda") otherwise made them elsewhere:
    fits, scores and loads failed in torch's words. ``torch.device`` as a context intercepts every
    torch call in Python, so it is entered only where the default is not the CPU already.
    """

    @functools.wraps(function)
    def on_cpu(*args, **kwargs):
        # No torch function mode, no default device but the CPU: asked so first, 0.04 us against
        # get_default_device's 8 (a one-row transform is some 300).
        if not torch._C._is_torch_function_mode_enabled() or _default_device_is_cpu():
            return function(*args, **kwargs)
        with torch.device("cpu"):
            return function(*args, **kwargs)

    return on_cpu


@on_cpu_by_default
def map_rows(X, function, n_outputs, *, device, prepare=None, conditions=None, chunk_rows=None,
             out_dtype=np.float64, saturate=False, work_per_row=0, draws_per_row=1, rows_per_row=1,
             in_order=False):
    """``function`` over chunks of X's rows, padded with zero rows to a shape that keeps rows independent.

    ``prepare(block, first_row)`` turns a block of X's rows into a float
    array (None: X is one already, e.g. codes); ``conditions`` (a
    conditional model's, float32, one row per row of X) are padded alike.
    ``function(rows, conditions, n_rows, first_row)`` maps the padded
    tensors to one output row per row (``first_row``: the chunk's first
    row in X, for errors); the ``n_rows`` real ones come back as an
    ``out_dtype`` array. An output that is not finite is a clear error.
    ``chunk_rows`` bounds the rows read at a time, for streamed wide data
    (None: ``EVAL_CHUNK_ROWS`` on a CPU, each chunk padded to a multiple of
    ``EVAL_ROW_MULTIPLE``; on a GPU every chunk is padded to
    ``gpu_chunk_rows`` rows, whatever its size). ``saturate``: outputs
    beyond ``out_dtype``'s range come back as its extreme values, not as
    infinities (a float32 score of a row far outside the data).
    ``rows_per_row``: how many rows of the model's batch ``function`` makes
    of each row (a conditional score without y, once per class), whose
    chunks hold that many times fewer of X's rows.

    On a CPU every chunk runs on one torch thread, and as many chunks at
    once as the call's work pays for (``skvae._threads.threads_for`` of
    ``work_per_row`` times ``draws_per_row``, a row's multiply-adds in one
    pass through the model and the passes it takes, over at most a full
    chunk's rows, and ``MIN_WORKER_WORK`` each), on ``evaluation_pool``'s
    threads. Where a row is decoded many times (``draws_per_row > 1``, a
    score), the chunks at once share one full chunk's rows, so that memory
    stays that of one chunk. ``in_order=True`` (``function`` draws from a
    generator that the chunks share) runs them one after another, on one
    thread of the pool. Any other call that pays for one thread only runs
    in the caller's thread, torch's threads set to one for the call: torch
    has no setting for one thread alone, so a thread that first calls torch
    meanwhile keeps one thread (handing a one-row call to the pool instead
    cost 0.14 ms, a third of it). On a GPU the chunks run one after
    another, on torch's threads as set. Why not torch's own threads on a
    CPU: on Intel CPUs with AVX-512
    a matrix product on several threads splits its sums between them by
    the product's shape (32 rows, and 1,024 rows of 128 outputs), and gave
    a row other last bits alone than among other rows; on one thread every
    shape measured gives a row the same bits (docs/performance.md).
    """
    device = torch.device(device)
    fixed_shape = _pads_to_one_shape(device)
    if fixed_shape:
        # A row's outputs, not its rows_per_row rows' together: the shape one row's pass has.
        shape_rows = gpu_chunk_rows(max(X.shape[1], n_outputs // rows_per_row))
        chunk_rows = shape_rows if chunk_rows is None else min(chunk_rows, shape_rows)
    elif chunk_rows is None:
        chunk_rows = EVAL_CHUNK_ROWS
    chunk_rows = max(1, chunk_rows // rows_per_row)

    def padded(rows, n_rows, dtype=None):
        rows = np.asarray(rows, dtype=dtype)
        if not fixed_shape:
            if padded_rows(n_rows) == n_rows and rows.flags.c_contiguous and rows.flags.writeable:
                # A whole chunk needs no padding, and the model reads it without writing to it:
                # a copy cost 0.05 s of a 0.7 s transform of 100,000 x 784 rows.
                return torch.from_numpy(rows)
            out = np.zeros((padded_rows(n_rows), rows.shape[1]), dtype=rows.dtype)
            out[:n_rows] = rows
            return torch.from_numpy(out)
        # torch.from_numpy warns on a read-only array (a memmap, pandas' copy-on-write values), and
        # refuses negative strides (X[::-1], np.flip(X)), which the CPU path above copies too.
        usable = rows.flags.writeable and all(stride >= 0 for stride in rows.strides)
        rows = torch.from_numpy(rows if usable else rows.copy())  # a C-ordered, writeable copy
        out = torch.zeros((shape_rows, rows.shape[1]), dtype=rows.dtype, device=device)
        out[:n_rows] = rows.to(device)
        return out

    def run(rows, condition, n_rows, first_row):
        with torch.inference_mode():  # per thread
            return function(rows, condition, n_rows, first_row)[:n_rows]

    def finished(result, values, first_row):
        chunk = result.cpu().numpy()
        if saturate:
            # An overflow is an error before it is clipped to the dtype's extreme, as in float64.
            _check_finite(chunk, values, first_row, codes=prepare is None)
            return in_float_range(chunk, np.dtype(out_dtype)).astype(out_dtype, copy=False)
        with np.errstate(over="ignore", invalid="ignore"):
            chunk = chunk.astype(out_dtype, copy=False)
        _check_finite(chunk, values, first_row, codes=prepare is None)
        return chunk

    workers, work = 1, work_per_row * draws_per_row
    if not (fixed_shape or in_order):
        workers = min(threads_for(min(X.shape[0], EVAL_CHUNK_ROWS) * work),
                      max(1, int(X.shape[0] * work // MIN_WORKER_WORK)))
    if workers > 1:  # a call of a few hundred rows is split between the workers too
        spread = X.shape[0] if draws_per_row == 1 else min(X.shape[0], max(1, EVAL_CHUNK_ROWS // rows_per_row))
        chunk_rows = min(chunk_rows, max(1, padded_rows(-(-spread * rows_per_row // workers)) // rows_per_row))
    if workers > 1 or (in_order and not fixed_shape and X.shape[0] > chunk_rows and torch.get_num_threads() > 1):
        submit, threads = evaluation_pool(workers).submit, contextlib.nullcontext()  # the caller's count left alone
    else:
        submit, threads = _done, torch_threads(torch.get_num_threads() if fixed_shape else 1)
    # Written chunk by chunk: chunks concatenated at the end held the output twice at once.
    out, pending = np.empty((X.shape[0], n_outputs), dtype=out_dtype), []
    with threads:
        try:
            for start in range(0, X.shape[0], chunk_rows):
                stop = min(start + chunk_rows, X.shape[0])
                n_rows = stop - start
                block = X.iloc[start:stop] if hasattr(X, "iloc") else X[start:stop]
                values = prepare(block, start) if prepare is not None else np.asarray(block)
                condition = None
                if conditions is not None:
                    condition = padded(conditions[start:stop], n_rows, np.float32)
                pending.append((submit(run, padded(values, n_rows), condition, n_rows, start), values, start))
                if len(pending) >= workers:  # no more at once than the call's workers, whatever the pool's size
                    future, values, first_row = pending.pop(0)
                    chunk = finished(future.result(), values, first_row)
                    out[first_row : first_row + len(chunk)] = chunk
            while pending:
                future, values, first_row = pending.pop(0)
                chunk = finished(future.result(), values, first_row)
                out[first_row : first_row + len(chunk)] = chunk
        except BaseException:
            _settle(pending)  # a failed call leaves nothing running on the model behind it
            raise
    return out


def _settle(pending):
    """Cancel the chunks not started, and wait for those running (their errors follow the first)."""
    for future, *_ in pending:
        future.cancel()
    for future, *_ in pending:
        if not future.cancelled():
            future.exception()


_POOL = {}
_POOL_LOCK = threading.Lock()


def _new_lock_after_fork():
    # A lock held by another thread at the fork would stay held in the child, which has no such thread.
    global _POOL_LOCK
    _POOL_LOCK = threading.Lock()


os.register_at_fork(after_in_child=_new_lock_after_fork)


def evaluation_pool(workers):
    """This process's threads for evaluating chunks, each running torch on one thread, at least ``workers``.

    Kept between calls: a thread's first torch call costs about a
    millisecond, a tenth of a 10,000-row ``transform``. Made again in a
    forked child, which inherits no threads. Its threads are all started
    here, while torch's process-wide default is one thread: torch copies
    that default into a thread at its first call, and setting it is
    process-wide, so that the caller's own setting is put back at once.
    """
    pid, pool, size = _POOL.get("pool", (None, None, 0))
    if pid == os.getpid() and size >= workers:
        return pool
    with _POOL_LOCK:  # first calls from several threads at once build one pool, not one each
        pid, pool, size = _POOL.get("pool", (None, None, 0))
        if pid != os.getpid() or size < workers:
            started = threading.Barrier(workers)
            with torch_threads(1):
                pool = ThreadPoolExecutor(workers, thread_name_prefix="skvae-evaluation",
                                          initializer=_one_torch_thread)
                for future in [pool.submit(started.wait) for _ in range(workers)]:
                    future.result()  # each waits for all: the pool starts all its threads
            _POOL["pool"] = (os.getpid(), pool, workers)
    return pool


def _one_torch_thread():
    torch.get_num_threads()  # torch's own first-call setup of this thread, which would reset what follows
    torch.set_num_threads(1)


def _done(function, *args):
    """``function(*args)`` run now, in this thread, as a finished future (a call that takes no pool)."""
    future = Future()
    future.set_result(function(*args))
    return future


def gpu_chunk_rows(width):
    """Rows of every evaluation chunk on a GPU for data ``width`` values wide: 8,192, fewer for wide data."""
    rows = GPU_EVAL_VALUES // max(width, 1)
    return min(GPU_EVAL_CHUNK_ROWS, max(EVAL_ROW_MULTIPLE, rows - rows % EVAL_ROW_MULTIPLE))


def _pads_to_one_shape(device):
    """Whether evaluation on ``device`` pads every chunk to ``GPU_EVAL_CHUNK_ROWS`` rows (a GPU)."""
    return device.type != "cpu"


def _check_finite(out, rows, first_row, codes=False):
    """Raise where an output row is not finite, naming its input row (``codes``: the rows are codes)."""
    values = out.to_numpy() if hasattr(out, "to_numpy") else out
    if values.dtype.kind not in "fc":
        return
    bad = ~np.isfinite(values.reshape(values.shape[0], -1)).all(axis=1)
    if bad.any():
        row = int(np.argmax(bad))
        with np.errstate(invalid="ignore"):
            extreme = float(np.nanmax(np.abs(rows[row]))) if rows.dtype.kind in "fc" else float("nan")
        if codes:  # rescaling X cannot help: the codes lie where the decoder's means overflow
            raise ValueError(
                f"Code row {first_row + row} is beyond what the model's float32 arithmetic can decode: its "
                f"largest value is {extreme:.3g}, far outside the codes transform gives the training data, "
                "and a decoded mean (a count's or a log-normal column's, say) overflowed. Pass codes within "
                "the range of transform(X_train)."
            )
        raise ValueError(
            f"Row {first_row + row} is beyond what the model's float32 arithmetic can evaluate: "
            f"its largest value is {extreme:.3g}, far from the training data, and the networks "
            "overflowed on it. Check that row, or rescale X."
        )


def zero_padded(rows, n_rows):
    """A tensor's ``rows`` followed by zero rows, ``n_rows`` in all."""
    out = rows.new_zeros((n_rows, *rows.shape[1:]))
    out[: len(rows)] = rows
    return out


def padded_rows(n_rows):
    """Rows of the evaluation chunk that holds ``n_rows`` (at most ``EVAL_CHUNK_ROWS``) rows."""
    n_rows = min(max(n_rows, 1), EVAL_CHUNK_ROWS)
    return -(-n_rows // EVAL_ROW_MULTIPLE) * EVAL_ROW_MULTIPLE
