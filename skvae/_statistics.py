"""What a fit measures of the training columns for the model's front: mean, scale and resolution.

A likelihood that standardises its input says which statistics it needs
(``statistics``) of what (``transform_input``: the values, or their
``log1p`` for counts); ``column_statistics`` measures them over the
observed entries of the training rows, in float64, read block by block:
a memmap larger than memory is never copied, and a sparse matrix is read
from its stored entries and its implicit zeros, never densified.
"""

import numpy as np
import scipy.sparse as sp
import torch

from ._data import Scaling, rescaling, resolution, resolution_stride, row_blocks, scale_of
from .nn import LIKELIHOODS


def column_statistics(X, schema):
    """``{column index: {statistic: value}}``: what each column's likelihood asked for, over X's training rows.

    ``"mean"`` and ``"scale"`` (and ``"resolution"``) of the likelihood's
    ``transform_input`` of the values, to standardise them; ``"largest"``,
    the largest observed value (from the schema's column ranges), to bound
    decoded values; ``"censor_low"`` and ``"censor_high"``, a
    censored column's bounds in X's units (infinite where it is not);
    ``"constant"``, the value of a column that held one value in every
    training row it was observed in (NaN for the others); ``"binary"``,
    whether every observed value is 0 or 1. X is an array, a memmap or a
    sparse matrix, or the float values of a DataFrame (``schema.values``).
    """
    out = {}
    groups = {}
    for j, column in enumerate(schema.columns):
        groups.setdefault(column.likelihood, []).append(j)
    for kind, group in groups.items():
        cls = LIKELIHOODS[kind]
        stats = [{} for _ in group]
        if "mean" in cls.statistics:
            transform = _numpy(cls.transform_input)
            with_resolution = "resolution" in cls.statistics
            measure = _sparse_scaling if sp.issparse(X) else _array_scaling
            scaling = measure(X, group, transform, with_resolution)
            for k in range(len(group)):
                stats[k].update(mean=scaling.mean[k], scale=scaling.scale[k])
                if with_resolution:
                    stats[k]["resolution"] = scaling.resolution[k]
        if "largest" in cls.statistics:
            for k, j in enumerate(group):
                stats[k]["largest"] = schema.columns[j].high
        if "censor_low" in cls.statistics:
            for k, j in enumerate(group):
                column = schema.columns[j]
                stats[k]["censor_low"] = column.low if column.censored[0] else -np.inf
                stats[k]["censor_high"] = column.high if column.censored[1] else np.inf
        if "constant" in cls.statistics:
            for k, j in enumerate(group):
                column = schema.columns[j]
                stats[k]["constant"] = column.low if column.low == column.high else np.nan
        if "binary" in cls.statistics:
            for k, binary in enumerate(_binary(X, group)):
                stats[k]["binary"] = binary
        out.update({j: s for j, s in zip(group, stats) if s})
    return out


def as_one_image(statistics, schema):
    """``statistics`` with every float pixel ``"binary"`` only where every pixel is: an image's pixels are alike.

    A grey image's pixel that held only 0 and 1 at fit (a saturated or a
    rarely inked one) drew 0 or 1 in ``sample`` amid its neighbours'
    probabilities: salt and pepper. A frame's bool or integer pixel keeps
    its draws: it cannot hold a probability, and its dtype would round one
    to 0 or 1 by its side of 1/2.
    """
    binary = [stats["binary"] for stats in statistics.values() if "binary" in stats]
    if all(binary):
        return statistics
    return {j: {**stats, "binary": False} if "binary" in stats and schema.columns[j].kind == "float" else stats
            for j, stats in statistics.items()}


# Above (below) these standard deviations a variance in X's units overflows
# (underflows) float64, with room for the variance to exceed (fall short of) the feature's own.
LARGEST_SCALE, SMALLEST_SCALE = 1e150, 1e-150


def check_variance_units(statistics, schema):
    """Raise where a column's scale makes a variance in X's units (``noise_variance_``) unrepresentable."""
    for column, stats in statistics.items():
        scale = stats.get("scale", 1.0)
        if scale > LARGEST_SCALE or 0.0 < scale < SMALLEST_SCALE:
            # Its square itself is representable (1.5e300 at 1.24e150): the margin is for the variances
            # the model learns in those units, up to 1e8 times the column's own.
            flows, bound = ("overflow", f"above {LARGEST_SCALE:g}") if scale > 1 else ("underflow", f"below {SMALLEST_SCALE:g}")
            which = f"Column {schema.columns[column].name!r}" if schema.frame else f"X[:, {schema.columns[column].name}]"
            raise ValueError(
                f"{which} has a standard deviation of {scale:.3g}, {bound}: noise_variance_ holds variances "
                f"in X's squared units, and those the model learns around this one's square could {flows} "
                "float64. Rescale that column (e.g. StandardScaler, or a change of unit)."
            )


def _binary(X, columns):
    """Whether each column's observed values are all 0 or 1."""
    if sp.issparse(X):
        block = (X if len(columns) == X.shape[1] else X[:, columns]).tocsc()
        data = block.data
        binary = np.isnan(data) | (data == 0) | (data == 1)
        bad = np.zeros(len(columns))
        nonempty = np.diff(block.indptr) > 0
        if block.nnz:
            bad[nonempty] = np.add.reduceat((~binary).astype(float), block.indptr[:-1][nonempty])
        return bad == 0
    binary = np.ones(len(columns), dtype=bool)
    for values in row_blocks(_ReadColumns(X, columns, None)):
        binary &= np.all(np.isnan(values) | (values == 0) | (values == 1), axis=0)
    return binary


def _numpy(transform):
    """``transform`` of torch tensors applied to float64 arrays; None for the identity."""
    probe = torch.zeros(1, dtype=torch.float64)
    if transform(probe) is probe:
        return None
    return lambda values: transform(torch.from_numpy(np.ascontiguousarray(values, dtype=np.float64))).numpy()


class _ReadColumns:
    """X's ``columns`` as float64, through ``transform``, read at each slice of rows: what ``Scaling.fit`` reads.

    Never whole: a log-transformed float64 copy of a memmap's columns was
    three times the memmap (a Poisson VAE's statistics).
    """

    def __init__(self, X, columns, transform):
        self.X, self.columns, self.transform = X, columns, transform
        self.shape = (X.shape[0], len(columns))

    def __getitem__(self, rows):
        block = self.X[rows]
        values = np.asarray(block if len(self.columns) == self.X.shape[1] else block[:, self.columns],
                            dtype=np.float64)
        return values if self.transform is None else self.transform(values)


def _array_scaling(X, columns, transform, with_resolution):
    """Mean, scale (of the observed values) and resolution of array columns, in row blocks."""
    all_columns = len(columns) == X.shape[1]
    read = _ReadColumns(X, columns, transform)

    def blocks():
        return row_blocks(read)

    if not any(np.isnan(block).any() for block in blocks()):
        scaling = Scaling.fit(X if all_columns and transform is None else read)
        return scaling if with_resolution else Scaling(scaling.mean, scaling.scale)
    counts, sums, magnitude = np.zeros(len(columns)), np.zeros(len(columns)), np.zeros(len(columns))
    for block in blocks():
        magnitude = np.maximum(magnitude, np.nanmax(np.abs(block), axis=0, initial=0.0))
    magnitude = rescaling(magnitude)  # as Scaling.fit divides: no square overflows or underflows
    for block in blocks():
        counts += (~np.isnan(block)).sum(axis=0)
        sums += np.nansum(block / magnitude, axis=0)
    mean = sums / np.maximum(counts, 1)
    squares, deviations = np.zeros(len(columns)), np.zeros(len(columns))
    for block in blocks():
        centred = block / magnitude - mean
        squares += np.nansum(centred**2, axis=0)
        deviations += np.nansum(centred, axis=0)
    n_observed = np.maximum(counts, 1)
    scale = scale_of(squares / n_observed, deviations / n_observed, counts, magnitude)
    mean = mean * magnitude
    if not with_resolution:
        return Scaling(mean, scale)
    sample = np.asarray(X[:: resolution_stride(X.shape[0])], dtype=np.float64)
    sample = sample if all_columns else sample[:, columns]
    # On the scale the mean and scale were measured on: a log-normal column's
    # step in X's units would set a floor thousands of times too high.
    sample = sample if transform is None else transform(sample)
    return Scaling(mean, scale, np.array([_resolution(sample[:, k]) for k in range(len(columns))]))


def _sparse_scaling(X, columns, transform, with_resolution):
    """Mean, scale and resolution of sparse columns, from their stored entries and the zeros."""
    # A copy of its own (the transform below writes to it), made once: no column
    # selection when every column is in, no dtype change when already float64.
    block = X if len(columns) == X.shape[1] else X[:, columns]
    block = block.tocsc(copy=True).astype(np.float64, copy=False)
    if transform is not None:
        block.data = transform(block.data)  # 0 stays 0: a likelihood's transform must keep it
    n_rows = block.shape[0]
    observed = np.where(np.isnan(block.data), 0.0, 1.0)
    values = np.nan_to_num(block.data)
    counts = n_rows - _column_sums(block, 1.0 - observed)  # holes do not count
    n_observed = np.maximum(counts, 1)
    mean = _column_sums(block, values) / n_observed
    # Two passes, as for arrays: E[x**2] - mean**2 lost a spread of 3 at 1e9 (scale 1 against the
    # array's 3.0). The implicit zeros deviate by -mean each.
    n_zeros = counts - _column_sums(block, observed)
    centred = (values - np.repeat(mean, np.diff(block.indptr))) * observed
    squares = _column_sums(block, centred**2) + n_zeros * mean**2
    deviations = _column_sums(block, centred) - n_zeros * mean
    scale = scale_of(squares / n_observed, deviations / n_observed, counts)
    if not with_resolution:
        return Scaling(mean, scale)
    # The rows a dense X's resolution reads: the same data, sparse or dense, is the same model.
    stride = resolution_stride(n_rows)
    n_read = -(-n_rows // stride)
    steps = np.full(len(columns), np.nan)
    for k in range(len(columns)):
        stored = block.data[block.indptr[k] : block.indptr[k + 1]]
        if stride > 1:
            stored = stored[block.indices[block.indptr[k] : block.indptr[k + 1]] % stride == 0]
        n_stored = stored.size
        stored = stored[~np.isnan(stored)]
        if n_stored < n_read:
            stored = np.append(stored, 0.0)  # the column's zeros
        gaps = np.diff(np.unique(stored))
        steps[k] = gaps.min() if gaps.size else np.nan
    return Scaling(mean, scale, steps)


def _column_sums(csc, values):
    sums = np.zeros(csc.shape[1])
    nonempty = np.diff(csc.indptr) > 0
    if csc.nnz:
        sums[nonempty] = np.add.reduceat(values, csc.indptr[:-1][nonempty])
    return sums


def _resolution(values):
    values = values[~np.isnan(values)]
    return resolution(values[:, None])[0] if values.size else np.nan
