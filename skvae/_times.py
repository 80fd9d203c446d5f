"""Dates and durations as skvae models them: int64 nanoseconds, on a time zone's wall clock.

``nanoseconds`` reads a column (refusing values nanoseconds cannot hold);
``time_step`` finds the coarsest unit every value is a whole number of,
which ``skvae._schema`` rounds decoded and drawn values to (``rounded``).
"""

import numpy as np
import pandas as pd

# Units a date or duration column's values may all be whole numbers of, coarsest first (ns).
TIME_STEPS = (86_400 * 10**9, 3_600 * 10**9, 60 * 10**9, 10**9, 10**6, 10**3)


def time_step(observed, kind):
    """The coarsest of ``TIME_STEPS`` that divides every observed value (nanoseconds); 0: none.

    A time zone's values are measured on its wall clock: its local midnights
    are whole days there, not in UTC.
    """
    if kind == "datetime" and time_zone(observed.dtype) is not None:
        observed = observed.dt.tz_localize(None)
    ns = nanoseconds(observed, kind, observed.name).view(np.int64)
    for step in TIME_STEPS:
        if not np.any(ns % step):
            return step
    return 0


def time_zone(dtype):
    """A date column's time zone, or None (numpy-backed and pyarrow-backed dtypes alike)."""
    if isinstance(dtype, pd.ArrowDtype):
        return getattr(dtype.pyarrow_dtype, "tz", None)
    return getattr(dtype, "tz", None)


def nanoseconds(series, kind, name):
    """A (time-zone naive) date or duration column as datetime64[ns] or timedelta64[ns].

    Columns in seconds or milliseconds reach years nanoseconds do not (a
    9999-12-31 placeholder), and numpy's cast wraps those silently: a value
    that does not come back from nanoseconds unchanged is refused.
    """
    target = "M8[ns]" if kind == "datetime" else "m8[ns]"
    values = series.to_numpy() if isinstance(series.dtype, np.dtype) else None
    if values is not None:
        ns = values.astype(target)
        wrapped = ns.astype(values.dtype).view(np.int64) != values.view(np.int64)
        if not wrapped.any():
            return ns
        beyond = values[np.argmax(wrapped)]
    else:
        try:
            return series.astype(target).to_numpy()
        except (ValueError, OverflowError) as error:  # pyarrow's checked cast, and pandas'
            beyond = error
    # Named bounds, not pd.Timestamp.min/max, which pyarrow-backed columns compare wrongly.
    low, high = (("pd.Timestamp('1677-09-22')", "pd.Timestamp('2262-04-11')") if kind == "datetime"
                 else ("pd.Timedelta.min", "pd.Timedelta.max"))
    raise ValueError(
        f"Column {name!r} holds {'dates' if kind == 'datetime' else 'durations'} beyond the range skvae "
        f"models them in (nanoseconds, {low} to {high}): {beyond}. If such a value marks a missing or "
        f"open end, make it a hole (NaT): X[{name!r}] = X[{name!r}].where(X[{name!r}].between({low}, {high}))."
    )


def finer_step(old, new):
    """The step both blocks' values are whole numbers of (each step divides the coarser ones; 0: none)."""
    return 0 if 0 in (old, new) else min(old, new)


def rounded(ns, step):
    """int64 nanoseconds to the nearest multiple of ``step``, in integers (a half up)."""
    return (ns + step // 2) // step * step if step > 1 else ns
