"""Dates and durations as skvae models them: int64 nanoseconds, on a time zone's wall clock.

``nanoseconds`` reads a column (refusing values nanoseconds cannot hold);
``time_step`` finds the coarsest unit every value is a whole number of,
which ``skvae._schema`` rounds decoded and drawn values to (``rounded``;
``rounded_in_zone`` on a time zone's wall clock).
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
    """int64 nanoseconds to the nearest multiple of ``step``, in integers (a half up).

    Within a step of int64's ends a value is first moved inside them, where
    rounding cannot wrap round to the other end.
    """
    if step <= 1:
        return ns
    limits = np.iinfo(np.int64)
    ns = np.clip(ns, limits.min + step, limits.max - step)
    return (ns + step // 2) // step * step


def rounded_in_zone(ns, holes, step, zone):
    """UTC nanoseconds (``ns``, int64; ``holes`` NaT) as dates in ``zone``, rounded to ``step`` on its wall clock.

    Each value keeps its own UTC offset where the rounded value lands on
    the unit with it. Within half a step of a clock change that offset is
    the wrong one (a day's midnight lands at 23:00): such a value takes the
    rounded wall time in the zone instead, of a time that occurs twice the
    occurrence nearer the value, of one that does not occur the first time
    pandas gives after the gap (``nonexistent="shift_forward"``).
    """
    out = pd.Series(ns.view("M8[ns]")).dt.tz_localize("UTC").dt.tz_convert(zone)
    if step <= 1:
        return out
    wall = out.dt.tz_localize(None).to_numpy(dtype="datetime64[ns]").view(np.int64)
    moved = ns.copy()
    moved[~holes] += rounded(wall[~holes], step) - wall[~holes]
    landed = pd.Series(moved.view("M8[ns]")).dt.tz_localize("UTC").dt.tz_convert(zone)
    landed_wall = landed.dt.tz_localize(None).to_numpy(dtype="datetime64[ns]").view(np.int64)
    off = ~holes & (landed_wall != rounded(landed_wall, step))
    if not off.any():
        return landed
    target = pd.Series(rounded(wall[off], step).view("M8[ns]"))
    first, second = (
        target.dt.tz_localize(zone, ambiguous=np.full(len(target), summer), nonexistent="shift_forward")
        .to_numpy(dtype="datetime64[ns]").view(np.int64)
        for summer in (True, False)
    )
    moved[off] = np.where(np.abs(first - ns[off]) <= np.abs(second - ns[off]), first, second)
    return pd.Series(moved.view("M8[ns]")).dt.tz_localize("UTC").dt.tz_convert(zone)
