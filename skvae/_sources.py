"""Where training rows come from: one float32 tensor in memory, or encoded minibatch by minibatch.

Data that fit in memory are encoded once, into one float32 tensor on the
training device, and minibatches are gathered from it: the fastest path. A
scipy sparse matrix, a ``numpy.memmap`` (data larger than memory) and a
DataFrame too large to copy are streamed instead: each minibatch is read
from X and encoded when it is needed, so memory stays O(batch) beyond the
model and X itself. Both sources answer the training loop's two questions:
how many rows, and the rows at these positions.
"""

import numpy as np
import scipy.sparse as sp
import torch

from ._data import EVAL_ROW_MULTIPLE, STAT_BLOCK_ROWS

# Values a streamed block may hold (about 16 MB of float64): wide data, such
# as 20,000 count columns, are read in blocks of a hundred rows, not 4,096.
STREAM_VALUES = 2**21


def block_rows(n_columns):
    """Rows per block for streamed data of ``n_columns`` columns: a multiple of 8, 8 to 1024."""
    rows = min(1024, max(EVAL_ROW_MULTIPLE, STREAM_VALUES // max(n_columns, 1)))
    return rows - rows % EVAL_ROW_MULTIPLE


def is_streamed(X):
    """Whether X's rows are read per minibatch rather than copied whole."""
    return sp.issparse(X) or isinstance(X, np.memmap)


class TensorRows:
    """Encoded rows, all in one tensor."""

    def __init__(self, tensor):
        self.tensor = tensor
        self.device = tensor.device
        self.check_rows = 1024  # rows the fit checks its finished model on

    def __len__(self):
        return self.tensor.shape[0]

    def take(self, index):
        """The rows at ``index``: a slice or a tensor of positions."""
        if isinstance(index, slice):
            return self.tensor[index]
        return self.tensor.index_select(0, index)

    def blocks(self):
        return self.tensor.split(STAT_BLOCK_ROWS)


class StreamedRows:
    """Rows of X encoded when asked for, with any extra columns (conditions) in front."""

    def __init__(self, X, encode, device, extra_columns=None):
        self.X, self.encode, self.device = X, encode, device
        self.extra_columns = extra_columns
        self.check_rows = block_rows(X.shape[1])

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
        return torch.from_numpy(unsorted).to(self.device, non_blocking=True)

    def blocks(self):
        rows = block_rows(self.X.shape[1])
        for start in range(0, len(self), rows):
            yield self.take(slice(start, min(start + rows, len(self))))

