"""The columns of X as the model sees them: one likelihood per column, encoder inputs, targets, holes.

``ColumnLayout.fit`` reads X (a numpy array, a pandas DataFrame of mixed
types, or a scipy sparse matrix) and the estimator's ``likelihood`` and
decides, for every column, its likelihood and how it enters the model:

* the **encoder input**: the standardised value (Gaussian), the value as it
  is (Bernoulli), the standardised ``log1p`` of a count (Poisson, negative
  binomial), or a one-hot code (categorical); a missing entry enters as 0
  (the training mean, for standardised inputs), and every column that had
  missing values at fit adds an indicator input, 1 where the entry is
  missing, so that the encoder knows what it did not see;
* the **target** the likelihood scores: the standardised value, the value,
  the raw count, or the category's index;
* the **mask**: 1 where the entry was observed, 0 where it is missing.

A model row is ``[encoder inputs | targets | mask]``, with the targets and
the mask left out when the targets equal the inputs and nothing is missing:
the plain numeric case is exactly the standardised X it always was.
"""

from dataclasses import dataclass, field

import numpy as np
import pandas as pd
import scipy.sparse as sp
import torch

from ._data import Scaling, check_support, row_blocks
from .nn.likelihoods import LIKELIHOODS, MixedLikelihood

# The order in which the layout groups columns by likelihood.
_ORDER = list(LIKELIHOODS)


def infer_likelihood(series):
    """The likelihood ``likelihood="auto"`` gives a DataFrame column, by its dtype.

    Floats are Gaussian; booleans Bernoulli; categories, objects and strings
    categorical. Integers are Gaussian too: an integer column is as often a
    year, a code or a rating as a count, and treating it as a count is a
    modelling choice to state: ``likelihood={"visits": "poisson"}``.
    """
    dtype = series.dtype
    if pd.api.types.is_bool_dtype(dtype):
        return "bernoulli"
    if isinstance(dtype, pd.CategoricalDtype) or pd.api.types.is_object_dtype(dtype) or pd.api.types.is_string_dtype(dtype):
        return "categorical"
    return "gaussian"


@dataclass
class Column:
    """One column of X: its name, likelihood, categories and dtype."""

    name: object
    likelihood: str
    dtype: object = None
    categories: np.ndarray | None = None
    has_missing: bool = False


@dataclass(eq=False)
class ColumnLayout:
    """How each column of X becomes encoder inputs, a target and a mask entry; and back."""

    columns: list
    frame: bool = False
    scaling: Scaling = field(default_factory=Scaling)  # of the standardised inputs and targets
    count_scaling: Scaling = field(default_factory=Scaling)  # of log1p counts, as inputs
    handle_unknown: str = "error"

    # ------------------------------------------------------------ fitting

    @classmethod
    def fit(cls, X, likelihood, *, handle_unknown="error", estimator_name="the estimator"):
        frame = isinstance(X, pd.DataFrame)
        names = list(X.columns) if frame else list(range(X.shape[1]))
        chosen = _choose(X, names, likelihood, frame)
        if sp.issparse(X):
            return cls._fit_sparse(X, chosen, handle_unknown)
        if not frame:
            return cls._fit_array(X, chosen, handle_unknown)
        columns = []
        for j, name in enumerate(names):
            kind = chosen[name]
            values = _column(X, j)
            column = Column(name, kind, dtype=X.dtypes.iloc[j] if frame else None)
            if kind == "categorical":
                column.categories = _categories(values)
                column.has_missing = bool(pd.isna(values).any())
            else:
                column.has_missing = bool(np.isnan(_numeric(values, name, kind)).any())
            columns.append(column)
        layout = cls(columns, frame=frame, handle_unknown=handle_unknown)
        layout.check_values(X)
        layout.scaling = _fit_scaling(X, layout.indices("gaussian"), log1p=False)
        counts = layout.indices("poisson") + layout.indices("negative_binomial")
        layout.count_scaling = _fit_scaling(X, counts, log1p=True)
        return layout

    @classmethod
    def _fit_array(cls, X, chosen, handle_unknown):
        """The layout of a numeric array, read in row blocks: a memmap larger than memory is never copied."""
        if "categorical" in chosen.values():
            raise ValueError("An array holds numbers: categorical columns need a DataFrame.")
        holes = np.zeros(X.shape[1], dtype=bool)
        for block in row_blocks(X):
            holes |= np.isnan(block).any(axis=0)
        columns = [Column(j, chosen[j], has_missing=bool(holes[j])) for j in range(X.shape[1])]
        layout = cls(columns, handle_unknown=handle_unknown)
        layout.check_values(X)
        layout.scaling = _array_scaling(X, layout.indices("gaussian"), log1p=False)
        counts = layout.indices("poisson") + layout.indices("negative_binomial")
        layout.count_scaling = _array_scaling(X, counts, log1p=True)
        return layout

    @classmethod
    def _fit_sparse(cls, X, chosen, handle_unknown):
        """The layout of a sparse matrix, from its stored entries: nothing is densified whole."""
        if "categorical" in chosen.values():
            raise ValueError("A sparse matrix holds numbers: categorical columns need a DataFrame.")
        coo = X.tocoo()
        holes = np.zeros(X.shape[1], dtype=bool)
        holes[coo.col[np.isnan(coo.data)]] = True
        columns = [Column(j, chosen[j], has_missing=bool(holes[j])) for j in range(X.shape[1])]
        layout = cls(columns, handle_unknown=handle_unknown)
        layout.check_values(X)
        layout.scaling = _sparse_scaling(X, layout.indices("gaussian"), log1p=False)
        counts = layout.indices("poisson") + layout.indices("negative_binomial")
        layout.count_scaling = _sparse_scaling(X, counts, log1p=True)
        return layout

    def check_values(self, X):
        """Raise if X holds values a column's likelihood cannot take (NaN aside)."""
        if self.simple:
            kind = self.columns[0].likelihood
            values = X.data if sp.issparse(X) else _dense(X)
            check_support(values, kind, LIKELIHOODS[kind])
            return
        columns = [j for j, column in enumerate(self.columns) if column.likelihood != "categorical"]
        if sp.issparse(X):
            # One pass over the stored entries per likelihood, read in place (implicit zeros
            # are in every numeric support); a column at a time only to name the one at fault.
            entries = X.tocoo(copy=False)
            kinds = {self.columns[j].likelihood for j in columns}
            columns = []
            for kind in kinds:
                group = self.indices(kind)
                in_group = np.zeros(X.shape[1], dtype=bool)
                in_group[group] = True
                values = entries.data if in_group.all() else entries.data[in_group[entries.col]]
                try:
                    check_support(values, kind, LIKELIHOODS[kind])
                except ValueError:
                    columns += group
        for j in columns:
            column = self.columns[j]
            values = _numeric(_column(X, j), column.name, column.likelihood)
            check_support(values, column.likelihood, LIKELIHOODS[column.likelihood], column=column.name)

    def indices(self, kind):
        return [j for j, column in enumerate(self.columns) if column.likelihood == kind]

    @property
    def simple(self):
        """Every column the same Gaussian or Bernoulli number, nothing missing: rows are standardised X."""
        kinds = {column.likelihood for column in self.columns}
        return kinds <= {"gaussian"} or kinds == {"bernoulli"}

    @property
    def order(self):
        """X's columns grouped by likelihood: the targets' order."""
        return [j for kind in _ORDER for j in self.indices(kind)]

    @property
    def n_inputs(self):
        """Encoder inputs: one per value (k per categorical column), one per indicator."""
        width = sum(len(c.categories) if c.likelihood == "categorical" else 1 for c in self.columns)
        return width + sum(c.has_missing for c in self.columns)

    @property
    def n_targets(self):
        return len(self.columns)

    def likelihood(self, **options):
        """The torch likelihood of a row, its parts in the targets' order."""
        if self.simple:
            kind = self.columns[0].likelihood
            return LIKELIHOODS[kind](len(self.columns), **self._options(kind, self.indices(kind), options))
        parts = []
        for kind in _ORDER:
            group = self.indices(kind)
            if not group:
                continue
            part = LIKELIHOODS[kind](len(group), **self._options(kind, group, options))
            parts.append((part, len(group), part.n_parameters()))
        return MixedLikelihood(parts)

    def _options(self, kind, group, options):
        options = dict(options)
        if kind == "gaussian":
            positions = [self.indices("gaussian").index(j) for j in group]
            floor = self.scaling.variance_floor()
            options["min_variance"] = None if floor is None else floor[positions]
            options["log_scale"] = None if self.scaling.scale is None else torch.as_tensor(
                np.log(self.scaling.scale[positions]), dtype=torch.float32)
        if kind == "categorical":
            options["n_categories"] = [len(self.columns[j].categories) for j in group]
        return options

    @property
    def log_jacobian(self):
        """``sum(log scale)`` of the Gaussian columns: their density is in X's units."""
        return self.scaling.log_jacobian

    # ---------------------------------------------------------- encoding

    def needs_targets(self, missing):
        return not self.simple or missing or any(c.has_missing for c in self.columns)

    def encode(self, block, out=None, first_row=0):
        """Model rows of float32 for a block of X's rows: inputs, then targets and mask if needed."""
        if sp.issparse(block):
            block = block.toarray()
        if self.simple and not any(c.has_missing for c in self.columns):
            dense = _dense(block)
            if not np.isnan(dense).any():
                if out is not None and out.shape != dense.shape:
                    out = None
                return self.scaling.standardised_float32(dense, out=out, first_row=first_row)
        inputs, targets, mask = self._parts(block, first_row)
        rows = np.concatenate([inputs, targets, mask], axis=1)
        if out is not None and out.shape == rows.shape:
            out[...] = rows
            return out
        return rows

    def encode_all(self, X):
        """Model rows for all of X, encoded block by block."""
        from ._data import STAT_BLOCK_ROWS

        if self.simple and not sp.issparse(X) and not isinstance(X, pd.DataFrame) and not np.isnan(X).any():
            return self.scaling.to_float32(X)
        blocks = [
            self.encode(X.iloc[start : start + STAT_BLOCK_ROWS] if self.frame else X[start : start + STAT_BLOCK_ROWS],
                        first_row=start)
            for start in range(0, X.shape[0], STAT_BLOCK_ROWS)
        ]
        widths = {block.shape[1] for block in blocks}
        if len(widths) > 1:  # some blocks had holes, some not: give all targets and mask
            blocks = [self._with_targets(block) for block in blocks]
        return np.concatenate(blocks)

    def _with_targets(self, rows):
        if rows.shape[1] != self.n_inputs:
            return rows
        return np.concatenate([rows, rows, np.ones_like(rows)], axis=1)

    def width(self, missing=False):
        return self.n_inputs + (2 * self.n_targets if self.needs_targets(missing) else 0)

    def split(self, rows):
        """``(encoder inputs, targets, mask)`` of model rows; targets and mask None when absent."""
        if rows.shape[-1] == self.n_inputs and self.simple:
            return rows, None, None
        inputs = rows[..., : self.n_inputs]
        targets = rows[..., self.n_inputs : self.n_inputs + self.n_targets]
        mask = rows[..., self.n_inputs + self.n_targets :]
        return inputs, targets, mask

    def _positions(self):
        """Each column's first encoder input, its target's place, and the indicators' inputs."""
        if getattr(self, "_cached_positions", None) is None:
            starts, start = [], 0
            for column in self.columns:
                starts.append(start)
                start += len(column.categories) if column.likelihood == "categorical" else 1
            place = np.empty(len(self.columns), dtype=int)
            place[self.order] = np.arange(len(self.columns))
            flagged = [j for j, column in enumerate(self.columns) if column.has_missing]
            self._cached_positions = (np.array(starts), place, flagged, start)
        return self._cached_positions

    def _parts(self, block, first_row):
        """Encoder inputs, targets and mask of a block, one vectorised step per likelihood."""
        starts, place, flagged, first_indicator = self._positions()
        n_rows = block.shape[0]
        inputs = np.zeros((n_rows, self.n_inputs), dtype=np.float32)
        targets = np.zeros((n_rows, self.n_targets), dtype=np.float32)
        missing = np.zeros((n_rows, self.n_targets), dtype=bool)  # in X's column order
        for kind in _ORDER:
            group = self.indices(kind)
            if not group:
                continue
            if kind == "categorical":
                for j in group:
                    index = self._category_index(_column(block, j), self.columns[j], first_row)
                    hole = index < 0
                    rows = np.flatnonzero(~hole)
                    inputs[rows, starts[j] + index[~hole]] = 1.0
                    targets[:, place[j]] = np.where(hole, 0, index)
                    missing[:, j] = hole
                continue
            values = self._numeric_block(block, group, kind)
            hole = np.isnan(values)
            filled = np.where(hole, 0.0, values)
            if kind == "gaussian":
                encoded = self.scaling.standardised_float32(np.where(hole, self.scaling.mean, values),
                                                            first_row=first_row)
                encoded[hole] = 0.0
                target = encoded
            elif kind in ("poisson", "negative_binomial"):
                check_support(filled, kind, LIKELIHOODS[kind], column=self.columns[group[0]].name if len(group) == 1 else None)
                # count_scaling holds the Poisson columns, then the negative binomial ones, each in group order.
                offset = 0 if kind == "poisson" else len(self.indices("poisson"))
                positions = slice(offset, offset + len(group))
                count_scaling = Scaling(self.count_scaling.mean[positions], self.count_scaling.scale[positions])
                encoded = count_scaling.standardised_float32(np.log1p(filled), first_row=first_row)
                encoded[hole] = 0.0
                target = filled
            else:
                check_support(filled, kind, LIKELIHOODS[kind], column=self.columns[group[0]].name if len(group) == 1 else None)
                encoded = target = filled
            inputs[:, starts[group]] = encoded
            targets[:, place[group]] = target
            missing[:, group] = hole
        if flagged:
            inputs[:, first_indicator:] = missing[:, flagged]
        mask = np.ones((n_rows, self.n_targets), dtype=np.float32)
        mask[:, place] = ~missing
        if not np.isfinite(targets).all():
            row = int(np.argmax(~np.isfinite(targets).all(axis=1)))
            raise ValueError(f"Row {first_row + row} of X holds a value beyond float32's range; rescale X.")
        return inputs, targets, mask

    def _numeric_block(self, block, group, kind):
        if isinstance(block, pd.DataFrame):
            return np.column_stack([_numeric(block.iloc[:, j], self.columns[j].name, kind) for j in group])
        return np.asarray(block, dtype=np.float64)[:, group]

    def _category_index(self, values, column, first_row):
        values = pd.Series(np.asarray(values, dtype=object))
        missing = values.isna().to_numpy()
        index = pd.Categorical(values, categories=column.categories).codes.astype(int)
        unknown = values[(index < 0) & ~missing].tolist()
        if unknown and self.handle_unknown == "error":
            raise ValueError(
                f"Column {column.name!r} holds categories not seen at fit: {sorted(map(str, set(unknown)))[:10]}. "
                f"Known: {list(column.categories)[:20]}. Set handle_unknown='ignore' to treat them as missing."
            )
        return index

    # ---------------------------------------------------------- decoding

    def decode(self, means, index=None):
        """X-shaped output from the likelihood's per-column values (in the targets' order).

        For a DataFrame: the training columns with their dtypes; discrete
        columns (bool, categorical, counts) hold their most probable value
        (counts: the integer nearest the expected count), continuous ones
        their mean. For an array: floats (a Bernoulli column its
        probability, a count its expected value, a categorical column its
        most probable category).
        """
        if self.simple and not self.frame:
            return self.scaling.destandardised(means, np.float64)
        by_column = {}
        gaussian = self.indices("gaussian")
        position = {j: k for k, j in enumerate(self.order)}
        if gaussian:
            values = self.scaling.destandardised(means[:, [position[j] for j in gaussian]], np.float64)
            by_column.update({j: values[:, k] for k, j in enumerate(gaussian)})
        for j, column in enumerate(self.columns):
            if j in by_column:
                continue
            value = means[:, position[j]].astype(np.float64)
            if column.likelihood == "categorical":
                value = column.categories[value.astype(int)]
            by_column[j] = value
        if not self.frame:
            out = np.empty((means.shape[0], len(self.columns)))
            for j, column in enumerate(self.columns):
                value = by_column[j]
                out[:, j] = value if column.likelihood != "categorical" else _as_float(value, column)
            return out
        data = {}
        for j, column in enumerate(self.columns):
            data[column.name] = _restore_dtype(by_column[j], column)
        return pd.DataFrame(data, index=index)


def _choose(X, names, likelihood, frame):
    if isinstance(likelihood, dict):
        unknown = [key for key in likelihood if key not in names]
        if unknown:
            raise ValueError(f"likelihood names columns X does not have: {unknown}. X's columns: {names[:20]}.")
        bad = {key: value for key, value in likelihood.items() if value not in LIKELIHOODS}
        if bad:
            raise ValueError(f"likelihood maps columns to unknown likelihoods {bad}; choose from {sorted(LIKELIHOODS)}.")
        base = {name: (infer_likelihood(X[name]) if frame else "gaussian") for name in names}
        return {**base, **likelihood}
    if likelihood == "auto":
        return {name: (infer_likelihood(X[name]) if frame else "gaussian") for name in names}
    return {name: likelihood for name in names}


def _column(X, j):
    if isinstance(X, pd.DataFrame):
        return X.iloc[:, j]
    if sp.issparse(X):
        return X[:, j].toarray().ravel()
    return X[:, j]


def _dense(block):
    if isinstance(block, pd.DataFrame):
        return block.to_numpy(dtype=np.float64, na_value=np.nan)
    return np.asarray(block)


def _numeric(values, name, kind):
    if isinstance(values, pd.Series):
        if isinstance(values.dtype, pd.CategoricalDtype) or pd.api.types.is_object_dtype(values.dtype) or pd.api.types.is_string_dtype(values.dtype):
            raise ValueError(
                f"Column {name!r} holds {values.dtype} values, which a {kind} likelihood cannot take. "
                "Use likelihood='auto' or {" + repr(name) + ": 'categorical'}."
            )
        return values.to_numpy(dtype=np.float64, na_value=np.nan)
    return np.asarray(values, dtype=np.float64)


def _categories(values):
    present = pd.Series(values).dropna()
    if isinstance(getattr(values, "dtype", None), pd.CategoricalDtype):
        return np.asarray(values.cat.categories, dtype=object)
    return np.asarray(sorted(set(present.tolist()), key=lambda v: (str(type(v)), v)), dtype=object)


def _fit_scaling(X, columns, log1p):
    """Mean, scale (of the observed values alone) and resolution of dense columns."""
    if not columns:
        return Scaling()
    values = np.column_stack([_numeric(_column(X, j), j, "gaussian") for j in columns])
    if log1p:
        values = np.log1p(np.maximum(values, 0))
    holes = np.isnan(values)
    scaling = Scaling.fit(np.where(holes, 0.0, values))
    mean, scale = scaling.mean, scaling.scale
    for k in np.flatnonzero(holes.any(axis=0)):
        observed = values[~holes[:, k], k]
        column = Scaling.fit(observed[:, None]) if observed.size else Scaling(np.zeros(1), np.ones(1))
        mean[k], scale[k] = column.mean[0], column.scale[0]
    if log1p:
        return Scaling(mean, scale)
    resolution = np.array([_resolution(values[:, k]) for k in range(values.shape[1])])
    return Scaling(mean, scale, resolution)


def _array_scaling(X, columns, log1p):
    """Mean, scale (of the observed values) and resolution of array columns, in row blocks."""
    if not columns:
        return Scaling()
    all_columns = len(columns) == X.shape[1]

    def blocks():
        for block in row_blocks(X):
            values = np.asarray(block if all_columns else block[:, columns], dtype=np.float64)
            yield np.log1p(np.maximum(values, 0)) if log1p else values

    if not any(np.isnan(block).any() for block in blocks()):
        scaling = Scaling.fit(X if all_columns and not log1p else np.concatenate(list(blocks())))
        return Scaling(scaling.mean, scaling.scale) if log1p else scaling
    counts, sums = np.zeros(len(columns)), np.zeros(len(columns))
    for block in blocks():
        counts += (~np.isnan(block)).sum(axis=0)
        sums += np.nansum(block, axis=0)
    mean = sums / np.maximum(counts, 1)
    squares = np.zeros(len(columns))
    for block in blocks():
        squares += np.nansum((block - mean) ** 2, axis=0)
    variance = squares / np.maximum(counts, 1)
    eps = np.finfo(np.float64).eps
    constant = variance <= counts * eps * variance + (counts * mean * eps) ** 2
    scale = np.sqrt(variance)
    scale[constant] = 1.0
    if log1p:
        return Scaling(mean, scale)
    sample = np.asarray(X[:: max(1, -(-X.shape[0] // 10_000))], dtype=np.float64)
    sample = sample if all_columns else sample[:, columns]
    return Scaling(mean, scale, np.array([_resolution(sample[:, k]) for k in range(len(columns))]))


def _sparse_scaling(X, columns, log1p):
    """Mean, scale and resolution of sparse columns, from their stored entries and the zeros."""
    if not columns:
        return Scaling()
    # A copy of its own (the log1p below writes to it), made once: no column
    # selection when every column is in, no dtype change when already float64.
    block = X if len(columns) == X.shape[1] else X[:, columns]
    block = block.tocsc(copy=True).astype(np.float64, copy=False)
    if log1p:
        block.data = np.log1p(np.maximum(block.data, 0))
    n_rows = block.shape[0]
    observed = np.where(np.isnan(block.data), 0.0, 1.0)
    values = np.nan_to_num(block.data)
    counts = n_rows - _column_sums(block, 1.0 - observed)  # holes do not count
    sums = _column_sums(block, values)
    squares = _column_sums(block, values**2)
    mean = sums / np.maximum(counts, 1)
    variance = np.maximum(squares / np.maximum(counts, 1) - mean**2, 0.0)
    eps = np.finfo(np.float64).eps
    constant = variance <= n_rows * eps * variance + (n_rows * mean * eps) ** 2
    scale = np.sqrt(variance)
    scale[constant] = 1.0
    if log1p:
        return Scaling(mean, scale)
    resolution = np.full(len(columns), np.nan)
    for k in range(len(columns)):
        stored = block.data[block.indptr[k] : block.indptr[k + 1]]
        stored = stored[~np.isnan(stored)]
        if block.indptr[k + 1] - block.indptr[k] < n_rows:
            stored = np.append(stored, 0.0)  # the column's zeros
        gaps = np.diff(np.unique(stored))
        resolution[k] = gaps.min() if gaps.size else np.nan
    return Scaling(mean, scale, resolution)


def _column_sums(csc, values):
    sums = np.zeros(csc.shape[1])
    nonempty = np.diff(csc.indptr) > 0
    if csc.nnz:
        sums[nonempty] = np.add.reduceat(values, csc.indptr[:-1][nonempty])
    return sums


def _resolution(values):
    from ._data import resolution

    values = values[~np.isnan(values)]
    return resolution(values[:, None])[0] if values.size else np.nan


def _as_float(values, column):
    try:
        return values.astype(np.float64)
    except (TypeError, ValueError):
        raise ValueError(
            f"Column {column.name!r} has categories {list(column.categories)[:5]}, which a numeric array "
            "cannot hold; fit on a DataFrame to get them back."
        ) from None


def _restore_dtype(values, column):
    dtype = column.dtype
    if column.likelihood == "categorical":
        if isinstance(dtype, pd.CategoricalDtype):
            return pd.Categorical(values, dtype=dtype)
        return pd.array(values, dtype=dtype) if dtype is not None and not pd.api.types.is_object_dtype(dtype) else values
    if column.likelihood == "bernoulli":
        return pd.array(values >= 0.5, dtype=dtype) if pd.api.types.is_bool_dtype(dtype) else values
    if pd.api.types.is_integer_dtype(dtype):
        return pd.array(np.rint(values).astype(np.int64), dtype=dtype)
    return values
