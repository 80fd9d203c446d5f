"""The bounds ``VAEImputer`` holds its fills within: ``min_value`` and ``max_value``, checked per column."""

from collections.abc import Mapping
from collections.abc import Set as AbstractSet

import numpy as np
import pandas as pd
from sklearn.utils._param_validation import InvalidParameterError

from .nn import LIKELIHOODS


def fill_bounds(schema, min_value, max_value):
    """``(low, high)``: float64 bounds of each column's fills in X's units, or None where none is bounded.

    ``min_value`` and ``max_value`` as ``VAEImputer`` takes them; refused as
    ``IterativeImputer`` refuses them, with what to give instead.
    """
    columns = schema.columns
    for limit, name in ((min_value, "min_value"), (max_value, "max_value")):
        # A dict or a set passes the parameter check as array-like, and numpy reads it as one object.
        if isinstance(limit, (Mapping, AbstractSet)):
            instead = "pd.Series(your_dict)" if isinstance(limit, Mapping) else "a list"
            raise InvalidParameterError(
                f"{name} takes a number, a list with a bound per column, or a pandas Series by column name; got "
                f"a {type(limit).__name__}. Pass {instead}, with -np.inf or np.inf for each column left unbounded."
            )
    if _no_bound(min_value, -np.inf) and _no_bound(max_value, np.inf):
        return None  # the defaults, at no cost a call (two lists of 784 columns were 0.2 ms of a row's)
    low = _bounds_of(min_value, "min_value", schema, -np.inf)
    high = _bounds_of(max_value, "max_value", schema, np.inf)
    for j, column in enumerate(columns):
        which = f"column {column.name!r}" if schema.frame else f"feature {j}"
        whole = column.kind in ("integer", "bool") or LIKELIHOODS[column.likelihood].discrete
        if whole:  # its fills are whole numbers (an integer dtype's, or a count's): they stay within
            low[j], high[j] = np.ceil(low[j]), np.floor(high[j])
        if low[j] == np.inf or high[j] == -np.inf or not low[j] <= high[j]:
            raise ValueError(
                f"min_value and max_value leave no value a fill of {which} may take: min_value={low[j]:g}, "
                f"max_value={high[j]:g}{' (as whole numbers, which its fills are)' if whole else ''}. "
                "Give each column min_value <= max_value, min_value below np.inf and max_value above -np.inf."
            )
        smallest, largest = _dtype_range(column)
        # As Python numbers, compared exactly: int64's largest value is 2**63 as a float64.
        if float(low[j]) > largest or float(high[j]) < smallest:
            raise ValueError(
                f"min_value and max_value leave no value a fill of {which} may take in its dtype "
                f"{column.dtype} ({smallest!r} to {largest!r}): min_value={float(low[j])!r}, "
                f"max_value={float(high[j])!r}. Give that column a bound its dtype holds (bounds per "
                "column: a list, or a Series by name, with -np.inf or np.inf where none)."
            )
    return low, high


def _bounds_of(limit, name, schema, unbounded):
    """One parameter's bound of each column as a float64 array (``unbounded`` where it has none)."""
    columns = schema.columns
    numeric = [column.categories is None and column.kind not in ("datetime", "timedelta") for column in columns]
    if limit is None or (np.ndim(limit) == 0 and np.isnan(limit)):
        return np.full(len(columns), unbounded)
    if np.ndim(limit) == 0:
        # Not booleans nor columns modelled on [0, 1]: a floor meant for amounts (min_value=1, or 5)
        # decided every fill of a flag (all True, or 5). Whatever the value, as a list's bounds.
        takes_scalar = [takes and _support(column)[1] == np.inf for takes, column in zip(numeric, columns)]
        # Where "auto" modelled every column on [0, 1] (as it may on one fold's rows), min_value=0
        # already holds for them all: only a scalar that would have moved their fills is refused.
        skipped = [_support(column) for column, number, takes in zip(columns, numeric, takes_scalar)
                   if number and not takes]
        holds = all(low >= limit if unbounded < 0 else high <= limit for low, high in skipped)
        if limit != unbounded and not any(takes_scalar) and not (skipped and holds):
            raise ValueError(
                f"{name}={limit!r} bounds no column: a scalar bounds the columns of numbers but booleans "
                "and columns modelled on [0, 1] (flags, shares, pixels). Give those one bound each (a list, "
                "or a Series by name)."
            )
        return np.where(takes_scalar, float(limit), unbounded)
    # A bound per column of X: the unread columns' too (``Schema.unread``), which no fill reads.
    names = schema.input_names
    if isinstance(limit, pd.Series) and schema.frame:
        # By the training columns' names, as the frame is read; by position it bounded other columns.
        unknown, missing = [n for n in limit.index if n not in names], [n for n in names if n not in limit.index]
        if unknown or missing or limit.index.has_duplicates:
            raise ValueError(
                f"{name} as a Series is read by column name, and its labels must be the training columns, "
                f"each once: {f'unknown {unknown[:5]}; ' if unknown else ''}"
                f"{f'missing {missing[:5]}; ' if missing else ''}"
                f"{'some repeated; ' if limit.index.has_duplicates else ''}"
                "give -np.inf or np.inf to leave a column unbounded (or a list, read by position)."
            )
        limit = limit.reindex(names)
    elif isinstance(limit, pd.Series):
        # Fitted on an array, the features' labels are their positions: read by position, a
        # Series of other labels bounded other columns than it named.
        positions = list(range(len(names)))
        labels = list(limit.index)
        whole = all(isinstance(label, (int, np.integer)) and not isinstance(label, (bool, np.bool_))
                    for label in labels)
        if not whole or sorted(labels) != positions:
            raise ValueError(
                f"{name} as a Series is read by its labels, which for an imputer fitted on an array "
                f"(no column names) are the features' positions 0 to {len(names) - 1}, each once; got "
                f"{labels[:10]}{' ...' if len(labels) > 10 else ''}. Give a list, read by position."
            )
        limit = limit.reindex(positions)
    if isinstance(limit, (list, tuple)):
        # pd.NA, as None, leaves a column unbounded: float() refuses it.
        limit = [np.nan if value is pd.NA else value for value in limit]
    # Each value looked at before NumPy reads them: float()'s refusal of a Timestamp or a word named
    # neither, and a date or a duration it read as a count of its unit (2020-01-01: 18262 days), which
    # bounded a column of numbers.
    refused = [value for value in limit if not _is_number(value)] if np.ndim(limit) == 1 else []
    if refused:
        value = next((v for v in refused if v is not pd.NaT), refused[0])
        raise ValueError(
            f"{name} bounds columns of numbers only, each by a number; got {value!r}. Give the columns of "
            f"categories, dates or durations {'np.inf' if unbounded > 0 else '-np.inf'} (or None: no bound)."
        )
    bounds = np.asarray(limit, dtype=np.float64).reshape(-1) if np.ndim(limit) == 1 else None
    if bounds is None or bounds.shape[0] != len(names):
        raise ValueError(f"{name!r} should be of shape ({len(names)},) when an array-like is provided. "
                         f"Got shape {np.shape(limit)}, instead.")
    bounds = np.where(np.isnan(bounds), unbounded, bounds)
    if schema.unread:
        bounds = bounds[schema.read_positions]
    wrong = [column.name for column, bound, takes in zip(columns, bounds, numeric)
             if not takes and np.isfinite(bound)]
    if wrong:
        raise ValueError(
            f"{name} bounds columns of numbers only; it gives a finite bound to {wrong[:5]}, "
            "which hold categories, dates or durations. Give those columns "
            f"{'np.inf' if unbounded > 0 else '-np.inf'} (no bound)."
        )
    return bounds


def _is_number(value):
    """Whether a bound reads as a float (None: NaN, no bound), as ``np.asarray(..., dtype=float)`` reads it."""
    if value is None:
        return True
    if isinstance(value, (np.datetime64, np.timedelta64)):  # float() gives their count of units
        return False
    try:
        float(value)
    except (TypeError, ValueError):
        return False
    return True


def _support(column):
    """The smallest and largest value a numeric column's fills can take: its likelihood's support (a boolean's 0 and 1)."""
    return (0.0, 1.0) if column.kind == "bool" else LIKELIHOODS[column.likelihood].support


def _dtype_range(column):
    """The smallest and largest value a column's dtype holds (infinite where unknown: a float64 array's)."""
    if column.kind == "bool":
        return 0, 1
    dtype = getattr(column.dtype, "numpy_dtype", column.dtype)  # pandas' nullable Int64, Float32
    if column.kind == "integer" and column.dtype is not None:
        info = np.iinfo(np.int64 if dtype == object else dtype)
        return int(info.min), int(info.max)
    if isinstance(dtype, np.dtype) and dtype.kind == "f":
        largest = float(np.finfo(dtype).max)
        return -largest, largest
    return -np.inf, np.inf


def _no_bound(limit, unbounded):
    """Whether a ``min_value`` or ``max_value`` bounds no column, as its default does."""
    return limit is None or (np.ndim(limit) == 0 and limit == unbounded)
