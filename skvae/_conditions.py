"""The condition y of a conditional model: class labels or numeric covariates, as model inputs.

A condition becomes float32 columns the model reads beside x: a one-hot code
of the label (or the standardised covariates), then one column that is 1
where the condition is missing. The model learns a "no condition" input
from training rows whose condition it is not shown.
"""

import datetime
from dataclasses import dataclass

import numpy as np
import pandas as pd
import scipy.sparse as sp
from sklearn.utils.validation import check_array, column_or_1d

from ._data import Scaling
from ._validation import as_pandas
from ._warnings import warn


@dataclass(frozen=True, eq=False)
class Conditions:
    """How a fitted model encodes its condition.

    ``classes`` holds the labels (sorted, as ``LabelEncoder`` sorts them) for
    a categorical condition, None for covariates; ``scaling`` standardises
    covariates.
    """

    classes: np.ndarray | None
    scaling: Scaling | None
    n_covariates: int = 0
    # A covariate DataFrame's column names at fit (None: given without names).
    names: tuple | None = None

    @classmethod
    def fit(cls, y, classes=None):
        """The encoding for training conditions ``y``: labels (1-D) or covariates (2-D)."""
        if _is_covariates(y):
            if classes is not None:
                raise ValueError("classes lists class labels, but y holds numeric covariates (2-D); "
                                 "leave classes out.")
            y = as_pandas(y)  # once, for both: polars' frames are read as pandas'
            _check_not_labels(y)
            Y = _covariates(y)
            return cls(classes=None, scaling=Scaling.fit(Y), n_covariates=Y.shape[1], names=_names(y))
        labels = _labels(y)
        declared = isinstance(getattr(y, "dtype", None), pd.CategoricalDtype)
        numbers = _as_numbers(labels)
        if classes is None and not declared and numbers.dtype.kind == "f" and np.any(numbers != np.round(numbers)):
            n_values = len(np.unique(numbers))
            each = "each of which would be a class of its own" if n_values != 1 else "which would be a class"
            raise ValueError(
                f"y holds {n_values} distinct fractional number{'s' if n_values != 1 else ''}, {each}. "
                "A ConditionalVAETransformer takes class labels as a "
                "1-D y (pass fractional labels as a pandas Categorical, or as strings), or numeric "
                "covariates as a 2-D y: for one covariate pass y.reshape(-1, 1) (a Series: y.to_frame())."
            )
        if classes is None and not declared and numbers.dtype.kind in "iuf":
            _warn_of_one_row_classes(numbers)
        known = np.unique(labels) if classes is None else np.unique(_labels(classes, name="classes"))
        conditions = cls(classes=known, scaling=None)
        unlisted = ~np.isin(labels, known)
        if unlisted.any():
            raise ValueError(
                f"y holds labels that classes={_shown(known)} does not list: "
                f"{_shown(np.unique(labels[unlisted])[:10])}. The first partial_fit's classes must "
                "name every label y will ever hold."
            )
        return conditions

    def check_same_classes(self, classes):
        """Refuse a later partial_fit's ``classes`` unless they are the first call's, as scikit-learn does."""
        if not self.categorical:
            raise ValueError("classes lists class labels, but this model's y are numeric covariates (2-D); "
                             "leave classes out.")
        given = np.unique(_labels(classes, name="classes"))
        if not np.array_equal(given, self.classes):
            raise ValueError(
                f"classes={_shown(given)} is not the same as on the first call to partial_fit, "
                f"{_shown(self.classes)}: the classes are fixed there. Fit anew (fit, or a clone) "
                "to change them."
            )

    @property
    def categorical(self):
        return self.classes is not None

    @property
    def width(self):
        """Columns of the model input: the encoding and the missing-condition flag."""
        return (len(self.classes) if self.categorical else self.n_covariates) + 1

    def encode(self, y, n_rows=None):
        """Float32 columns for ``y``: one per row, or one condition for all ``n_rows``."""
        return self.rows(y, n_rows)[:]

    def rows(self, y, n_rows=None):
        """``encode(y, n_rows)`` as ``ConditionRows``, which makes the columns a block of rows at a time."""
        if self.categorical:
            _refuse_sparse(y)
            shape = np.asarray(y).shape
            if len(shape) == 2 and shape[1] != 1:
                raise ValueError(
                    f"The model was fitted with class labels (a 1-D y); got a 2-D y of shape "
                    f"{shape}, which would be covariates. Pass one label per row, 1-D."
                )
            labels = _labels(y)
            if n_rows is not None and labels.shape[0] == 1:
                labels = np.repeat(labels, n_rows)
            try:  # by order and equality: 1 is True, as scikit-learn's LabelEncoder takes it
                index = np.clip(np.searchsorted(self.classes, labels), 0, len(self.classes) - 1)
                unseen = self.classes[index] != labels
            except TypeError:
                # A label that cannot be ordered among the classes (0 among strings): by hash.
                index = pd.Index(self.classes).get_indexer(labels)
                unseen = index < 0
            if unseen.any():
                known = str(_shown(self.classes[:20]))
                if len(self.classes) > 20:
                    known = known[:-1] + ", ...]"
                raise ValueError(
                    f"y holds labels the model was not fitted with: {_shown(pd.unique(labels[unseen])[:10])}. "
                    f"It knows classes_={known}; a new label needs a new fit (fit with "
                    "warm_start=False, or a first partial_fit whose classes= lists every label). In "
                    "cross-validation, split with StratifiedKFold, so that every training fold holds "
                    "every label."
                )
            return ConditionRows(self.width, hot=index)
        if not _is_covariates(y):
            if self.n_covariates == 1:
                advice = "One covariate per sample is y.reshape(-1, 1) (a Series: y.to_frame())."
            elif isinstance(y, pd.Series) and len(y) == self.n_covariates:
                advice = "One row for every sample is y.to_frame().T (a DataFrame of one row)."
            elif isinstance(y, dict):
                advice = "One row for every sample is pd.DataFrame([y])."
            elif np.ndim(y) == 1 and np.shape(y)[0] == self.n_covariates:
                advice = "One row for every sample is y.reshape(1, -1)."
            else:
                advice = f"Pass an array of shape (n_samples, {self.n_covariates})."
            raise ValueError(
                f"y must be 2-D, one row of {self.n_covariates} covariates per sample, as at "
                f"fit; got {_described(y)}. {advice}"
            )
        y = as_pandas(y)  # polars' and pyarrow's names too: read by position, swapped columns gave other rows
        given = _names(y)
        if self.names is not None and given is not None and given != self.names:
            raise ValueError(
                f"y's covariates must have the names they had at fit, in the same order: "
                f"{list(self.names)}; got {list(given)}."
            )
        if (given is None) != (self.names is None):
            # scikit-learn's warning for X's feature names: columns read by position may be swapped.
            warn(
                f"y does not have valid covariate names, but the model was fitted with names {list(self.names)}: "
                "its columns are read by position." if given is None else
                "y has covariate names, but the model was fitted without names: its columns are read by "
                "position.",
                UserWarning,
            )
        Y = _covariates(y)
        if Y.shape[1] != self.n_covariates:
            raise ValueError(
                f"y has {Y.shape[1]} covariates per row, but the model was fitted with "
                f"{self.n_covariates}."
            )
        if n_rows is not None and Y.shape[0] == 1:
            Y = np.repeat(Y, n_rows, axis=0)
        columns = np.zeros((Y.shape[0], self.width), dtype=np.float32)
        columns[:, :-1] = self.scaling.to_float32(Y, name="y")
        return ConditionRows(self.width, columns=columns)

    def missing(self, n_rows):
        """``ConditionRows`` that say "no condition" for ``n_rows`` rows."""
        return ConditionRows(self.width, hot=np.full(n_rows, self.width - 1, dtype=np.intp))


class ConditionRows:
    """A condition's float32 input columns for many rows, made a block of rows at a time.

    Indexed by rows (``rows[start:stop]``, ``rows[positions]``) it gives
    those rows' columns; ``rows[:]`` all of them. Labels are kept as the
    column each row sets: their one-hot columns for every row at once took
    790 MB in ``sample(400_000)`` with 500 classes, for a 6 MB output.
    ``hot``: each row's one column set (a class's, or the last, "no
    condition"); ``columns``: the rows' columns themselves (covariates).
    """

    def __init__(self, width, *, hot=None, columns=None):
        self.width, self.hot, self._columns = width, hot, columns

    @property
    def shape(self):
        return (len(self), self.width)

    def __len__(self):
        return len(self.hot) if self._columns is None else len(self._columns)

    def __getitem__(self, rows):
        if self._columns is not None:
            return self._columns[rows]
        hot = self.hot[rows]
        block = np.zeros((len(hot), self.width), dtype=np.float32)
        block[np.arange(len(hot)), hot] = 1.0
        return block

    def labelled(self):
        """Each row's class (its index in ``classes``), -1 where a row has no condition or covariates."""
        if self.hot is None:
            return np.full(len(self), -1, dtype=np.intp)
        return np.where(self.hot == self.width - 1, -1, self.hot)


def _refuse_sparse(y):
    if sp.issparse(y):
        raise ValueError("y is a sparse matrix; pass class labels 1-D, or covariates 2-D, dense (y.toarray()).")


def _is_covariates(y):
    _refuse_sparse(y)
    shape = getattr(y, "shape", None)  # a frame's (a pyarrow Table of dates and floats has no common dtype)
    return len(shape) == 2 if shape is not None else np.ndim(np.asarray(y, dtype=object)) == 2


def _described(y):
    """What a y of the wrong shape is, in words: a Series, a dict or an array, and its shape."""
    if isinstance(y, pd.Series):
        return f"a Series of {len(y)} values"
    if isinstance(y, dict):
        return f"a dict of {len(y)} entries"
    return f"an array of shape {np.shape(y)}"


# At most this many distinct whole numbers in a 2-D y of one integer column, and it reads as labels
# given 2-D (df[["label"]]) more likely than as a covariate.
FEW_LABELS = 10


def _labels_advice(width):
    """How to pass class labels given as a 2-D y of ``width`` columns."""
    if width == 1:
        return "one column of class labels 1-D: df['label'] rather than df[['label']], or y.ravel()"
    return (f"one column of class labels, not {width}: combine them into one label per row "
            "(df['a'].astype(str) + '/' + df['b'].astype(str)), or one-hot them as numeric "
            "covariates (pd.get_dummies(df, dtype=float))")


def _check_not_labels(y):
    """Refuse a 2-D y of categorical columns; warn where its one column looks like class labels.

    A 2-D y is numeric covariates, standardised; scikit-learn's classifiers
    read a column-vector y as labels, with a warning. A pandas Categorical
    holds no numbers (its categories' values would be read as such), and a
    column of flags or of a few whole numbers is the usual ``df[["label"]]``.
    ``y``: as ``as_pandas`` gives it.
    """
    width = np.shape(y)[1]
    if isinstance(y, pd.DataFrame):
        categorical = [name for name, dtype in y.dtypes.items() if isinstance(dtype, pd.CategoricalDtype)]
        if categorical:
            raise ValueError(
                f"y is 2-D, so it is read as numeric covariates, but its column {categorical[0]!r} holds categories "
                f"(a pandas Categorical). Pass {_labels_advice(width)}."
            )
    if width != 1:
        return
    column = np.asarray(y.iloc[:, 0] if isinstance(y, pd.DataFrame) else np.asarray(y)[:, 0])
    n_values = len(np.unique(column)) if column.dtype.kind in "iu" else None
    if column.dtype.kind == "b" or (n_values is not None and n_values <= FEW_LABELS):
        kind = "flags" if column.dtype.kind == "b" else f"{n_values} distinct whole numbers"
        warn(
            f"y is 2-D, so its one column ({kind}) is read as one numeric covariate, not as class labels. For "
            f"labels, pass {_labels_advice(1)}; for a covariate of whole numbers, pass it as floats "
            "(y.astype(float)) to say so.",
            UserWarning,
        )


def _names(y):
    """A DataFrame's column names as a tuple, when all are strings (scikit-learn's rule for X); else None."""
    if isinstance(y, pd.DataFrame) and all(isinstance(name, str) for name in y.columns):
        return tuple(y.columns)
    return None


# Values of a time, which numpy and polars would give as ticks in their own unit.
_TIMES = (np.datetime64, np.timedelta64, datetime.date, datetime.time, datetime.timedelta, pd.Period)


def _dated(y):
    """Where 2-D y (a pandas frame or an array) holds times, in words; None where it does not."""
    if isinstance(y, pd.DataFrame):
        # Object columns are looked into, the others told by their dtype: a wide frame's every call.
        for name, dtype in y.dtypes.items():
            if dtype.kind in "mM" or isinstance(dtype, pd.PeriodDtype) or (dtype == object and any(
                    isinstance(value, _TIMES) for value in y[name])):
                return f"its column {name!r}"
        return None
    values = np.asarray(y) if hasattr(y, "dtype") else np.asarray(y, dtype=object)
    if values.dtype.kind in "mM" or (values.dtype == object and any(isinstance(v, _TIMES) for v in values.ravel())):
        return "it"
    return None


def _covariates(y):
    y = as_pandas(y)  # once: polars' dtypes are a list, and check_array would convert it again
    dated = _dated(y)
    if dated is not None:
        # numpy's promotion error named neither y nor a way on; an array's ticks were read as numbers
        # in whatever unit they came, so the same dates in seconds were other conditions.
        raise ValueError(
            f"y is 2-D, so it is read as numeric covariates, but {dated} holds dates, times or durations, whose unit "
            "is unknown. Pass numbers measured the same way at fit and later, e.g. seconds from one fixed "
            "date, (y['when'] - pd.Timestamp('2000-01-01')).dt.total_seconds() (in the column's time zone, "
            "if it has one), or a duration's .dt.total_seconds()."
        )
    try:
        covariates = check_array(y, dtype=np.float64, input_name="y", ensure_all_finite="allow-nan")
    except TypeError as error:  # a value float() does not take
        raise ValueError(
            f"y is 2-D, so it is read as numeric covariates, but it holds values that are not numbers ({error}). "
            "Pass numbers (one-hot categories: pd.get_dummies(df, dtype=float)), or class labels as a 1-D y."
        ) from None
    except ValueError as error:
        if np.asarray(y).dtype.kind in "OUS" and "convert" in str(error):
            raise ValueError(
                f"y is 2-D, so it is read as numeric covariates, but it holds values that are not "
                f"numbers ({error}). Pass {_labels_advice(np.shape(y)[1])}."
            ) from None
        raise
    holed = np.flatnonzero(np.isnan(covariates).any(axis=1))
    if holed.size:
        raise ValueError(
            f"y (covariates) holds NaN in {holed.size} row(s) (first: row {holed[0]}): every row needs "
            "all its covariates. Fill them (e.g. SimpleImputer), or drop those rows; at transform, "
            "rows without known conditions can be encoded without y (transform(X))."
        )
    return covariates


def _labels(y, name="y"):
    if isinstance(y, (set, frozenset, dict)):
        raise TypeError(
            f"{name} must be a label or an array-like of labels; got a {type(y).__name__}, whose "
            "items have no order to match rows by. Pass a list or an array."
        )
    if isinstance(y, (list, tuple)):
        # np.asarray would make ["a", 1] two strings, and the label 1 then unknown; and ["a", None]
        # the strings "a" and "None".
        given = np.ravel(np.asarray(y, dtype=object))
        missing = pd.isna(given)
        if missing.any():
            _refuse_missing(name, missing)
        _refuse_mixed_types({type(v) for v in given}, name)
    labels = column_or_1d(np.atleast_1d(np.asarray(y)), warn=True)
    missing = pd.isna(labels) if labels.dtype.kind in "fcOmM" else None
    if missing is not None and missing.any():
        _refuse_missing(name, missing)
    if labels.dtype.kind == "O":
        _refuse_mixed_types({type(v) for v in labels}, name)
    # scikit-learn refuses infinite targets (and classes); as a label, inf became a class of its own.
    infinite = None
    if labels.dtype.kind == "f":
        infinite = np.isinf(labels)
    elif labels.dtype.kind == "O":
        infinite = np.array([isinstance(v, (float, np.floating)) and bool(np.isinf(v)) for v in labels], dtype=bool)
    if infinite is not None and infinite.any():
        raise ValueError(f"{name} holds an infinite label (position {int(np.argmax(infinite))}). Class labels are "
                         "finite numbers or strings: replace or drop those rows.")
    return labels


def _as_numbers(labels):
    """Labels as numbers where they are (an object array of numbers too: a Series made with
    ``astype(object)`` held ages as classes without the checks numbers get); else as given."""
    if labels.dtype.kind == "O" and pd.api.types.infer_dtype(labels, skipna=False) in (
            "integer", "floating", "mixed-integer-float"):
        try:
            return labels.astype(np.float64)
        except OverflowError:  # a Python integer beyond float64, a label as any other
            return labels
    return labels


def _refuse_missing(name, missing):
    first = f" (first at position {int(np.argmax(missing))})"
    if name != "y":
        raise ValueError(f"{name} holds NaN, None or pd.NA{first}: list the labels y may hold.")
    raise ValueError(
        f"y holds NaN, None or pd.NA{first}: every row given y needs its condition (a label). Fit "
        "on the labelled rows (drop or fill the others); to encode, score or decode rows of no "
        "known label, or to sample from every class, leave y out."
    )


def _refuse_mixed_types(kinds, name):
    # NumPy's own strings and bools (a label taken from classes_) are strings and bools.
    kinds = {str if issubclass(k, str) else bool if issubclass(k, (bool, np.bool_)) else k for k in kinds}
    if len(kinds) > 1 and not all(issubclass(k, (int, float, np.number)) for k in kinds):
        raise ValueError(f"{name} mixes label types {sorted(k.__name__ for k in kinds)}; use one type of label.")


def _shown(labels):
    """Labels as a message lists them: dates as dates (``tolist`` gives nanoseconds as integers)."""
    return [str(v) for v in labels] if labels.dtype.kind in "mM" else labels.tolist()


def _warn_of_one_row_classes(labels):
    """Warn, as scikit-learn's classifiers do, where 1-D numeric labels make more classes than half the rows.

    A covariate given as labels (an age or a year passed 1-D): each value
    a class of its own, most of one row.
    """
    n_classes = len(np.unique(labels))
    if len(labels) > 20 and n_classes > round(0.5 * len(labels)):
        warn(
            f"y holds {n_classes} distinct numbers in {len(labels)} rows: as class labels, each is a class of "
            "its own, learned from its few rows, and transform, score and sample refuse any value not among "
            "them. For a numeric covariate (an age, a year) pass y.reshape(-1, 1) (a Series: y.to_frame()); "
            "to keep them as classes, pass them as a pandas Categorical or give classes.",
            UserWarning,
        )
