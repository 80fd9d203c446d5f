"""Where training rows come from: encoded once and held in memory, or encoded minibatch by minibatch.

Data that fit in memory are encoded once by the model's front
(``skvae.nn.columns``) into a ``Batch`` of float32 tensors on the training
device (inputs, and targets, mask and conditions where there are any),
and minibatches are gathered from it: the fastest path. On a GPU whose free
memory cannot hold them twice over, they stay in pinned host memory and
minibatches cross as they are used. A scipy sparse matrix and a
``numpy.memmap`` (data larger than memory) are streamed instead: each
minibatch is read from X and encoded when it is needed, so memory stays
O(batch) beyond the model and X itself. So are rows whose encoding would
be many times larger than X: a categorical column of thousands of levels
is thousands of one-hot inputs a row. Both sources answer the training
loop's two questions: how many rows, and the rows at these positions.
"""

import mmap

import numpy as np
import scipy.sparse as sp
import torch

from ._data import EVAL_ROW_MULTIPLE, STAT_BLOCK_ROWS
from .nn import Batch

# Rows per forward pass when a fit evaluates its model on training rows
# (fitted statistics, validation scores). 256 keeps a convolutional
# network's activations (about 40 KB a row for 28 x 28 images) in cache: the
# conv VAE's statistics pass took 0.21 s for 5,000 rows against 0.39 s in
# blocks of 1,024, while the dense VAE's changed by 5 ms.
MODEL_BLOCK_ROWS = 256

# Training rows a fit scores its finished model on, to catch divergence: a
# diverged model scores absurdly on any rows, so a few suffice.
CHECK_ROWS = 256

# Values a streamed block may hold (about 16 MB of float64): wide data, such
# as 20,000 count columns, are read in blocks of a hundred rows, not 4,096.
STREAM_VALUES = 2**21

# Values encoded in one block when a fit encodes its training rows (64 MB of
# float64): X is already that size, so its encoding's temporaries are no
# burden, and a data set within it skips a full-size copy (a fifth of a
# 3-epoch fit of 5,000 x 784 went to encoding in two blocks).
ENCODE_VALUES = 2**23


# Rows are encoded minibatch by minibatch, not whole, when the encoding
# would hold more than ENCODE_VALUES values and more than this many times
# X's own. 20,000 flights with a 3,264-level tail number (a 1 MiB frame):
# encoded whole, a fit's memory grew by 893 MiB, per minibatch by 13 MiB, at
# the same speed (benchmarks/memory.py --cases levels).
ENCODED_GROWTH = 8


def spread_rows(rows, n_rows):
    """``n_rows`` rows of a row source spread evenly over it (all of them if it has no more).

    What a fit judges its finished model on: data sorted with hundreds of
    like rows first (a sparse matrix's empty ones) mislead a judgement of
    the first rows alone.
    """
    n_rows = min(n_rows, len(rows))
    return rows.take(torch.from_numpy(np.linspace(0, len(rows) - 1, n_rows).round().astype(np.int64)))


def encoding_outgrows(n_rows, n_columns, n_inputs):
    """Whether ``n_rows`` rows of ``n_columns`` values, ``n_inputs`` inputs each, are too many to encode whole."""
    return n_rows * n_inputs > max(ENCODE_VALUES, ENCODED_GROWTH * n_rows * n_columns)


def block_rows(n_columns):
    """Rows per block for streamed data of ``n_columns`` columns: a multiple of 8, 8 to 1024."""
    rows = min(1024, max(EVAL_ROW_MULTIPLE, STREAM_VALUES // max(n_columns, 1)))
    return rows - rows % EVAL_ROW_MULTIPLE


def is_streamed(X):
    """Whether X's rows are read per minibatch rather than copied whole.

    Sparse matrices, and arrays backed by a memory-mapped file: a memmap,
    or the plain view of one that input validation hands on.
    """
    if sp.issparse(X):
        return True
    while isinstance(X, np.ndarray):
        if isinstance(X, np.memmap):
            return True
        X = X.base
    return isinstance(X, mmap.mmap)


def evaluation_chunk_rows(X):
    """Evaluation chunk rows: fewer for streamed (sparse, memmapped) wide data; None: the device's default."""
    return block_rows(X.shape[1]) if is_streamed(X) else None


def as_tensor(block):
    """A tensor sharing a float array's memory; a copy of a read-only one (a memmap's), which torch cannot share."""
    block = np.ascontiguousarray(block)
    if not block.flags.writeable:
        block = block.copy()
    return torch.from_numpy(block)


def encode_all(encode, values):
    """Every row of ``values`` through ``encode(block, first_row)``, block by block, into one ``Batch``.

    Data of at most ``ENCODE_VALUES`` values are encoded in one block,
    whose tensors are the result (no second copy). Larger data go in
    blocks of ``STAT_BLOCK_ROWS`` rows, so that the temporaries of encoding
    stay small beside X, into tensors allocated once, at their full size.
    When a later block has holes that the first had not (a row is then no
    longer its own target), the rows before it get their targets (the
    inputs) and a full mask.
    """
    n_rows = values.shape[0]
    if n_rows * values.shape[1] <= ENCODE_VALUES:
        return encode(values, 0)
    out = None
    for start in range(0, n_rows, STAT_BLOCK_ROWS):
        block = encode(values[start : start + STAT_BLOCK_ROWS], start)
        stop = start + len(block)
        if out is None:
            out = Batch(*(None if t is None else t.new_empty((n_rows, *t.shape[1:])) for t in block))
        if block.target is not None and out.target is None:
            out = out.replaced(target=out.x.clone(), mask=torch.ones_like(out.x))
        if block.target is None and out.target is not None:
            block = block.replaced(target=block.x, mask=torch.ones_like(block.x))
        for whole, part in zip(out, block):
            if whole is not None:
                whole[start:stop] = part
    return out


class TensorRows:
    """Encoded rows, all in one ``Batch`` of tensors: on the training device, or in host memory.

    Rows too large for a GPU's free memory stay on the host (``resident``
    False), in pinned memory, and each minibatch is copied to the device
    as it is used, without blocking the host.
    """

    def __init__(self, batch, device=None, resident=True):
        self.device = batch.x.device if device is None else torch.device(device)
        self.resident = resident
        if resident:
            batch = batch.map(lambda t: t.to(self.device))
        elif self.device.type == "cuda":
            batch = batch.map(lambda t: t.pin_memory())
        self.batch = batch

    def __len__(self):
        return self.batch.x.shape[0]

    def take(self, index):
        """The rows at ``index``: a slice or a tensor of positions."""
        if isinstance(index, slice):
            rows = self.batch.map(lambda t: t[index])
        else:
            index = index.to(self.batch.x.device)
            rows = self.batch.map(lambda t: t.index_select(0, index))
        if self.resident:
            return rows
        if self.device.type == "cuda":
            rows = rows.map(lambda t: t.pin_memory())
        return rows.map(lambda t: t.to(self.device, non_blocking=True))

    def blocks(self, stride=1):
        """The rows block by block; with ``stride``, only every stride-th row (of all rows) in each."""
        yield from _strided_blocks(self, MODEL_BLOCK_ROWS, stride)


def fits_on_device(n_bytes, device):
    """Whether ``n_bytes`` of training rows should move to ``device`` whole.

    Always on the CPU. On a GPU, when they take at most half its free memory:
    the rest is the model's, the optimiser's and the minibatches' working room.
    """
    device = torch.device(device)
    if device.type != "cuda":
        return True
    free, _ = torch.cuda.mem_get_info(device)
    return n_bytes <= free // 2


class StreamedRows:
    """Rows of X encoded when asked for: ``encode(block, first_row, positions)`` gives a ``Batch``.

    X on disk or in a CSR matrix (``is_streamed``) is read in sorted rows
    and in blocks sized for reading it (``block_rows``). Rows in memory,
    whose encoding outgrows them (``encoding_outgrows``), are read in the
    drawn order and in the blocks of rows encoded whole
    (``MODEL_BLOCK_ROWS``), so that the fitted statistics sum alike.
    """

    def __init__(self, X, encode, device):
        self.X, self.encode, self.device = X, encode, device
        self.in_memory = not is_streamed(X)

    def __len__(self):
        return self.X.shape[0]

    def take(self, index):
        if isinstance(index, slice):
            positions = np.arange(*index.indices(len(self)))
        else:
            positions = index.cpu().numpy()
        if not self.in_memory:
            # Sorted reads are sequential on disk and in a CSR matrix; the
            # minibatch is put back in its drawn order afterwards.
            order = np.argsort(positions, kind="stable")
            sorted_positions = positions[order]
            block = self.X.iloc[sorted_positions] if hasattr(self.X, "iloc") else self.X[sorted_positions]
            batch = self.encode(block, int(sorted_positions[0]) if len(positions) else 0, sorted_positions)
            unsorted = torch.from_numpy(np.argsort(order, kind="stable"))
            batch = batch.map(lambda t: t.index_select(0, unsorted))
        else:
            batch = self.encode(self.X[positions], int(positions[0]) if len(positions) else 0, positions)
        if self.device.type == "cuda":
            batch = batch.map(lambda t: t.pin_memory())
        return batch.map(lambda t: t.to(self.device, non_blocking=True))

    def blocks(self, stride=1):
        """The rows block by block; with ``stride``, only every stride-th row (of all rows) in each."""
        yield from _strided_blocks(self, MODEL_BLOCK_ROWS if self.in_memory else block_rows(self.X.shape[1]), stride)


def _strided_blocks(source, block_size, stride):
    """``source.take`` of each block of ``block_size`` rows, every ``stride``-th row of all of them (none read else)."""
    for start in range(0, len(source), block_size):
        first, stop = start + -start % stride, min(start + block_size, len(source))
        if first < stop:
            yield source.take(slice(first, stop, stride))
