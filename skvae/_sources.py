"""Where training rows come from: one float32 tensor in memory, or encoded minibatch by minibatch.

Data that fit in memory are encoded once, into one float32 tensor on the
training device, and minibatches are gathered from it: the fastest path. On
a GPU whose free memory cannot hold that tensor twice over, it stays in
pinned host memory and minibatches cross as they are used. A
scipy sparse matrix, a ``numpy.memmap`` (data larger than memory) and a
DataFrame too large to copy are streamed instead: each minibatch is read
from X and encoded when it is needed, so memory stays O(batch) beyond the
model and X itself. Both sources answer the training loop's two questions:
how many rows, and the rows at these positions.
"""

import mmap

import numpy as np
import scipy.sparse as sp
import torch

from ._data import EVAL_ROW_MULTIPLE

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


class TensorRows:
    """Encoded rows, all in one tensor: on the training device, or in host memory.

    Rows too large for a GPU's free memory stay on the host (``resident``
    False), in pinned memory, and each minibatch is copied to the device
    as it is used, without blocking the host.
    """

    def __init__(self, tensor, device=None, resident=True):
        self.device = tensor.device if device is None else torch.device(device)
        self.resident = resident
        if resident:
            tensor = tensor.to(self.device)
        elif self.device.type == "cuda":
            tensor = tensor.pin_memory()
        self.tensor = tensor

    def __len__(self):
        return self.tensor.shape[0]

    def take(self, index):
        """The rows at ``index``: a slice or a tensor of positions."""
        if isinstance(index, slice):
            rows = self.tensor[index]
        else:
            rows = self.tensor.index_select(0, index.to(self.tensor.device))
        if self.resident:
            return rows
        if self.device.type == "cuda":
            rows = rows.pin_memory()
        return rows.to(self.device, non_blocking=True)

    def blocks(self):
        for start in range(0, len(self), MODEL_BLOCK_ROWS):
            yield self.take(slice(start, min(start + MODEL_BLOCK_ROWS, len(self))))


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
    """Rows of X encoded when asked for, with any extra columns (conditions) in front."""

    def __init__(self, X, encode, device, extra_columns=None):
        self.X, self.encode, self.device = X, encode, device
        self.extra_columns = extra_columns

    def __len__(self):
        return self.X.shape[0]

    def take(self, index):
        if isinstance(index, slice):
            positions = np.arange(*index.indices(len(self)))
        else:
            positions = index.cpu().numpy()
        # Sorted reads are sequential on disk and in a CSR matrix; the
        # minibatch is put back in its drawn order afterwards.
        order = np.argsort(positions, kind="stable")
        sorted_positions = positions[order]
        block = self.X.iloc[sorted_positions] if hasattr(self.X, "iloc") else self.X[sorted_positions]
        rows = self.encode(block, first_row=int(sorted_positions[0]) if len(positions) else 0)
        if self.extra_columns is not None:
            rows = np.concatenate([self.extra_columns[sorted_positions], rows], axis=1)
        unsorted = np.empty_like(rows)
        unsorted[order] = rows
        rows = torch.from_numpy(unsorted)
        if self.device.type == "cuda":
            rows = rows.pin_memory()
        return rows.to(self.device, non_blocking=True)

    def blocks(self):
        rows = block_rows(self.X.shape[1])
        for start in range(0, len(self), rows):
            yield self.take(slice(start, min(start + rows, len(self))))

