"""Input checks every estimator shares: X's width and names as scikit-learn checks them, and output dtypes.

``check_features`` leaves X as it is (a DataFrame's columns are read one
by one by ``skvae._schema``); ``plain_rows`` says when an array needs no
more checking than that, which keeps one-row calls cheap.
"""

from numbers import Integral

import narwhals.stable.v2 as nw
import numpy as np
import pandas as pd
import scipy.sparse as sp
from sklearn import get_config
from sklearn.utils._param_validation import validate_parameter_constraints
from sklearn.utils.validation import _check_sample_weight, check_array, validate_data

from ._data import FLOAT_DTYPES, columns_where


def output_dtype(X):
    """The dtype of outputs row by row: X's own float dtype, as scikit-learn's transformers keep it.

    A DataFrame counts as float32 when every column is (what ``check_array``
    would make of it); anything else gives float64.
    """
    if isinstance(X, pd.DataFrame):
        return np.float32 if set(X.dtypes) == {np.dtype(np.float32)} else np.float64
    dtype = getattr(X, "dtype", None)  # an array or a sparse matrix
    return dtype if dtype in FLOAT_DTYPES else np.float64


def plain_rows(X, estimator):
    """Whether X is a 2-D float ndarray of the fitted width, without infinities, for a model fitted without names."""
    return (
        type(X) is np.ndarray and X.ndim == 2 and X.dtype in FLOAT_DTYPES and X.shape[0] > 0
        and X.shape[1] == estimator.n_features_in_ and not hasattr(estimator, "feature_names_in_")
        and has_no_infinity(X)
    )


def check_features(estimator, X, reset):
    """X's width and feature names checked as scikit-learn checks them, X left as it is.

    A wrong width gets scikit-learn's error naming ``estimator``, an array
    given to a model fitted on names its warning, 1-d X its "Reshape your
    data" error.
    """
    # A list, a dict or a scalar has no ndim: check_array says what is wrong with it (a frame-fitted
    # model would otherwise read a dict's keys as feature names).
    if getattr(X, "ndim", 2 if hasattr(X, "shape") else None) != 2:
        check_array(X, dtype=None, ensure_all_finite=False, accept_sparse=True)
    validate_data(estimator, X, reset=reset, skip_check_array=True)
    schema = getattr(estimator, "_schema", None)
    # scikit-learn checks a pandas frame's string labels; skvae checks the rest: labels that are
    # not strings, and every label of a frame whose names scikit-learn does not read (dask's).
    unread = not isinstance(X, pd.DataFrame)
    # Labels, not a pyarrow RecordBatch's columns of data.
    labelled = isinstance(getattr(X, "columns", None), pd.Index)
    if not reset and labelled and schema is not None and schema.frame \
            and (unread or not hasattr(estimator, "feature_names_in_")):
        # Labels that are not strings (0, 1, 2), which scikit-learn does not check: a frame-fitted
        # model reads its columns by their place, and would read reordered ones as the others.
        # Labels none of which were fitted (an array's frame, "a", "b" where 0, 1 were) are read by
        # place, as scikit-learn reads them (and warns of strings); labels that were fitted, at
        # other places, would be read as the columns that stood there.
        fitted = pd.Index(schema.input_names, dtype=object)
        given = pd.Index(X.columns, dtype=object)
        known = given.isin(fitted)
        # Labels none of which were fitted, some strings: scikit-learn refuses them in a pandas frame.
        named = unread and hasattr(estimator, "feature_names_in_") and any(isinstance(label, str) for label in given)
        if not given.equals(fitted) and (known.any() or named):
            advice = (f"Pass X[{_shown_labels(fitted)}]" if len(given) == len(fitted) and known.all()
                      else "Pass the columns the model was fitted with, in that order")
            raise ValueError(
                f"X's column labels {_shown_labels(given)} are not those the model was fitted with, "
                f"{_shown_labels(fitted)}, in that order. {advice}: a model fitted on a DataFrame "
                "reads its columns by their place, and scikit-learn checks only a pandas frame's string "
                "labels."
            )


def _shown_labels(labels):
    labels = list(labels)
    return repr(labels) if len(labels) <= 10 else repr(labels[:10])[:-1] + ", ...]"


# What pandas' infer_dtype calls an object array that holds no string.
_NO_STRINGS = frozenset({"floating", "integer", "mixed-integer-float", "decimal", "boolean", "empty", "complex"})


def with_plain_holes(X, fitted_on_array=False):
    """An array of numbers as ``validate_data`` reads it: pd.NA as NaN, numbers given as strings as numbers.

    pd.NA comes in an object array from a nullable frame's ``to_numpy()``;
    strings that are not numbers are refused with the way skvae reads them.
    Anything but a NumPy array of strings or objects (or a list) comes back
    as it is. ``fitted_on_array``: X goes to a model fitted on an array,
    whose advice for strings differs.
    """
    if isinstance(X, (list, tuple)):
        X = np.asarray(X)
    if not isinstance(X, np.ndarray) or X.dtype.kind not in "USO":
        return X
    if X.dtype.kind == "O":
        holes = pd.isna(X)
        if holes.any():
            X = np.where(holes, np.nan, X)
        # pandas' C reading of the kinds first: a Python walk over every cell took two thirds of
        # a transform of 100,000 x 10 such cells.
        kinds = pd.api.types.infer_dtype(X.ravel(), skipna=True)
        if kinds in _NO_STRINGS or not any(isinstance(value, str) for value in X.flat):
            return X
    try:
        return X.astype(np.float64)  # "1.5" is 1.5, as check_array reads it
    except (ValueError, TypeError):
        raise _strings_error(X, fitted_on_array) from None


def _strings_error(X, fitted_on_array=False):
    """The error for an array holding strings that are not numbers, which skvae reads only in a DataFrame.

    ``fitted_on_array``: X goes to a model fitted on an array, which a
    DataFrame of the same values does not change.
    """
    position, value = next((p, v) for p, v in np.ndenumerate(X) if not _parses_as_number(v))
    value = value.item() if isinstance(value, np.generic) else value  # '', not np.str_('')
    where = f"X[{', '.join(map(str, position))}]"
    categories = ("this model was fitted on an array of numbers: to read strings as categories, fit it on a "
                  "DataFrame, whose columns of strings are categories, and give it DataFrames" if fitted_on_array else
                  "skvae reads other strings only as a DataFrame's columns, each a category: pass pd.DataFrame(X)")
    error = ValueError(
        f"X is an array holding strings that are not numbers ({X.dtype}): {where} is {value!r}. If such "
        f"strings mark missing values, replace them with np.nan first; {categories}."
    )
    error.string = value  # for an imputer's advice: missing_values can name it
    return error


def _parses_as_number(value):
    try:
        float(value)
    except (TypeError, ValueError):
        return False
    return True


def codes_of_width(X, width, estimator, expected):
    """Codes ``X`` for ``inverse_transform``, refused unless its rows have ``width`` entries, as ``expected`` says.

    Looked at before X is read as numbers: the training frame given in
    place of its codes failed in that conversion, on a string or a date.
    """
    shape = np.shape(X) if hasattr(X, "shape") else np.shape(np.asarray(X, dtype=object))
    if len(shape) == 2 and shape[1] != width:
        raise ValueError(
            f"X has {shape[1]} features, but {type(estimator).__name__}.inverse_transform expects {expected}, "
            "as transform returns."
        )
    return X


def has_no_infinity(X):
    """Whether a float array holds no infinity, as ``validate_data`` checks: a finite sum says so.

    ``np.isinf(X).any()`` makes a boolean temporary of X's size: 0.2 s of a
    0.7 s transform of 100,000 x 784 rows. Only a hole or an overflow makes
    the sum not finite, and then the entries are looked at.
    """
    with np.errstate(over="ignore", invalid="ignore"):
        if np.isfinite(X.sum()):
            return True
    return not columns_where(X, np.isinf).any()


def call_parameter(estimator, name):
    """The value of a parameter a method reads at each call, checked as ``fit`` checks it.

    Such parameters (``handle_unknown``, ``transform_quantized``,
    ``sample_posterior``) take effect through ``set_params`` on a fitted
    model; unchecked, a misspelt value would act as another one.
    """
    value = getattr(estimator, name)
    constraints = estimator._parameter_constraints.get(name)
    if constraints is not None and not get_config()["skip_parameter_validation"]:
        validate_parameter_constraints({name: constraints}, {name: value}, caller_name=type(estimator).__name__)
    return value


# narwhals' integer dtypes that pandas has a nullable twin of, by the same name.
_NULLABLE_INTEGERS = frozenset({"Int8", "Int16", "Int32", "Int64", "UInt8", "UInt16", "UInt32", "UInt64"})


def as_pandas(X):
    """Another library's DataFrame (polars, pyarrow, dask, ...) as a pandas one; anything else as it is.

    scikit-learn reads such frames' column names but turns their values into
    one float array, which a column of strings cannot enter. The schema
    reads pandas' columns one by one, so every frame goes through pandas:
    the same likelihoods, names and outputs as the same data in pandas
    (``inverse_transform`` and ``sample`` return pandas DataFrames). Integer
    and boolean columns with holes keep pandas' nullable dtypes (Int8 to
    UInt64 by the column's width, boolean), which ``to_pandas`` would make
    float and object.
    """
    if isinstance(X, (np.ndarray, pd.DataFrame, list, tuple)) or sp.issparse(X):
        return X
    if type(X).__name__ == "RecordBatch" and type(X).__module__.startswith("pyarrow"):
        import pyarrow as pa  # a table of one batch, which narwhals reads

        X = pa.Table.from_batches([X])
    if type(X).__module__.split(".")[0] == "dask" and hasattr(X, "columns"):
        # A dask DataFrame, computed (narwhals warns that it is dropping dask): read as values, it
        # lost every column's kind (a string column could not be fitted at all).
        X = X.compute()
        if isinstance(X, pd.DataFrame):
            return X
    native = nw.from_native(X, pass_through=True)
    if isinstance(native, nw.LazyFrame):  # a polars lazy frame, as the dask one
        native = native.collect()
    if not isinstance(native, nw.DataFrame):
        return X
    frame = native.to_pandas()
    for name, dtype in native.schema.items():
        if dtype.is_integer() and frame[name].dtype.kind == "f":
            # The nullable integer of the same width and sign, as the column is in pandas.
            frame[name] = frame[name].astype(str(dtype) if str(dtype) in _NULLABLE_INTEGERS else "Int64")
        elif dtype == nw.Boolean and frame[name].dtype == object:
            frame[name] = frame[name].astype("boolean")
    return frame


def check_has_rows(X, estimator):
    """scikit-learn's error for X without rows or columns, naming ``estimator`` (X without a 2-D shape passes)."""
    shape = getattr(X, "shape", None)
    # A dask DataFrame's number of rows is a lazy scalar, which has no truth value: not looked at.
    if shape is not None and len(shape) == 2 and isinstance(shape[0], Integral) and shape[0] == 0:
        raise ValueError(
            f"Found array with 0 sample(s) (shape={tuple(shape)}) while a minimum of 1 is "
            f"required by {type(estimator).__name__}."
        )
    if shape is not None and len(shape) == 2 and isinstance(shape[1], Integral) and shape[1] == 0:
        raise ValueError(
            f"Found array with 0 feature(s) (shape={tuple(shape)}) while a minimum of 1 is "
            f"required by {type(estimator).__name__}."
        )


def row_weights(sample_weight, X):
    """``sample_weight`` checked against X's rows as scikit-learn checks it, float64; None where all are equal.

    Equal weights fit as none do, bit for bit (scikit-learn's checks fit
    with ones and without, and expect the same model).
    """
    if sample_weight is None:
        return None
    weights = _check_sample_weight(sample_weight, X, dtype=np.float64, ensure_non_negative=True)
    return None if np.all(weights == weights[0]) else weights
