"""The way back from the model's float values to a DataFrame column in its training dtype.

What ``Schema.restore`` does column by column, and so what
``inverse_transform``, ``sample``, the imputer and loaded models give back:
categories from their indices, booleans thresholded at 1/2, integers
rounded and kept within their dtype, dates and durations rounded to the
column's step inside int64, decimals to their scale (an object column's
Decimals to the most places seen), floats in their width.
"""

import decimal

import numpy as np
import pandas as pd

from ._data import in_float_range
from ._times import rounded, rounded_in_zone, time_zone

# The float64 nearest 2**63 below it: dates near 2262 (or 1677) fit inside int64, whose smallest
# value is NaT. (A bound of 9.2e18, 266 days inside, once turned every date of 2262 into one of 2261.)
_NS_BOUND = float(np.nextafter(2.0**63, 0))


def _zoned_bounds(zone, step):
    """UTC nanoseconds whose wall clock in ``zone``, rounded to ``step``, fits in int64 too.

    int64's ends less the zone's offset there, and a step: rounding on the
    wall clock moves a value by up to half a step either way.
    """
    late = pd.Timestamp("2262-04-10", tz=zone).utcoffset().total_seconds() * 1e9
    early = pd.Timestamp("1677-09-23", tz=zone).utcoffset().total_seconds() * 1e9
    # float64 spacing there is 2,048 ns: stepped one float further in, so that rounding to an
    # integer cannot take a bound back past the end.
    low = -_NS_BOUND + max(-early, 0.0) + step
    high = _NS_BOUND - max(late, 0.0) - step
    return float(np.nextafter(low, 0)), float(np.nextafter(high, 0))


def restore_column(values, column):
    """One column of a DataFrame back in its training dtype, never a view of ``values``."""
    dtype = column.dtype
    if column.categories is not None:
        observed = ~np.isnan(values)
        index = np.where(observed, values, 0).astype(np.int64)
        if isinstance(dtype, pd.CategoricalDtype):
            codes = np.where(observed, index, -1)
            return pd.Categorical.from_codes(codes, dtype=dtype)
        out = column.categories[index]
        if not observed.all():
            out = out.astype(object)
            out[~observed] = None
        if pd.api.types.is_object_dtype(dtype):
            return out
        return pd.array(out, dtype=dtype)
    kind = column.kind
    holes = np.isnan(values)
    if kind == "bool":
        out = pd.array(values >= 0.5, dtype="boolean" if holes.any() else dtype)
        if holes.any():
            out[holes] = pd.NA
        # A numpy bool column cannot hold a hole; a categorical or pyarrow one can.
        return out.astype(dtype) if out.dtype != dtype and not (holes.any() and dtype == np.bool_) else out
    if kind in ("datetime", "timedelta"):
        # Clipped inside int64, whose smallest value is NaT; holes are NaT. Rounded to the
        # column's step in integers: float64 holds today's nanoseconds only to 256.
        step = max(int(column.step), 1)
        zone = time_zone(dtype) if kind == "datetime" else None
        low, high = (-_NS_BOUND, _NS_BOUND) if zone is None else _zoned_bounds(zone, step)
        ns = np.rint(np.clip(np.nan_to_num(values), low, high)).astype(np.int64)
        if zone is None:
            ns = rounded(ns, step)
        ns[holes] = np.iinfo(np.int64).min
        out = pd.Series(ns.view(f"{'M' if kind == 'datetime' else 'm'}8[ns]"))
        if zone is not None:
            out = rounded_in_zone(ns, holes, step, zone)
        return out.astype(dtype).array
    if kind == "integer":
        # An object column of whole numbers (see kind_of_column) is rounded as int64.
        info = np.iinfo(np.int64 if dtype == object else getattr(dtype, "numpy_dtype", dtype))
        # As floats, int64's and uint64's largest values round up past them (2**63): clip to the
        # largest float below, or the cast wraps them round to the smallest.
        high = float(info.max) if int(float(info.max)) <= info.max else np.nextafter(float(info.max), 0)
        whole = np.clip(np.rint(np.nan_to_num(values)), info.min, high).astype(info.dtype)
        if dtype == object:  # Python ints, None for a hole
            out = whole.astype(object)
            out[holes] = None
            return out
        out = pd.array(whole, dtype=dtype)
        if holes.any():  # only a nullable integer column had holes to draw
            out[holes] = pd.NA
        return out
    scale = _decimal_scale(dtype)
    if scale is not None:
        # Within what its precision holds, as an integer column is kept within its dtype's range.
        # The float below the bound: at 17 digits and more, 10 ** digits - 10 ** -scale rounds up to it.
        largest = np.nextafter(10.0 ** (dtype.pyarrow_dtype.precision - scale) - 10.0 ** -scale, 0.0)
        return pd.array(np.clip(np.round(values, scale), -largest, largest).astype(object), dtype=dtype)
    if dtype == object:  # Python floats, None for a hole, as the column held them (see kind_of_column)
        places = getattr(column, "decimal_places", None)  # a Column pickled before it was kept has none
        if places is not None:
            # Floats beside an imputer's kept Decimals made the column unsummable (Decimal + float).
            return pd.array([None if hole else decimal.Decimal(f"{value:.{places}f}")
                             for value, hole in zip(values.tolist(), holes.tolist())], dtype=object)
        out = values.astype(object)
        out[holes] = None
        return pd.array(out, dtype=object)
    numpy_dtype = np.dtype(dtype.numpy_dtype if hasattr(dtype, "numpy_dtype") else dtype)
    # One copy, contiguous: a view of the decoded values would keep all of them alive with the
    # frame, and a strided column made later work on it (mean, std) up to 10 times slower.
    out = np.ascontiguousarray(in_float_range(values, numpy_dtype).astype(numpy_dtype, copy=False))
    return pd.array(out, dtype=dtype, copy=False)


def _decimal_scale(dtype):
    """A pyarrow decimal dtype's scale (digits after the point); None for any other dtype."""
    if not isinstance(dtype, pd.ArrowDtype):
        return None
    import pyarrow as pa

    return dtype.pyarrow_dtype.scale if pa.types.is_decimal(dtype.pyarrow_dtype) else None
