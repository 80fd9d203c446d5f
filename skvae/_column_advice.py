"""Warnings about how a DataFrame's column was read, and what to do about it.

``read_csv`` gives dates, and numbers beside a marker it does not know
("?"), as strings; a table's identifier column holds a new value in every
row; integers past 2**53 lose digits as float64. Each is a column the
model would read otherwise than the user means: ``Schema.fit`` asks here,
once per column, whether to say so.
"""

import datetime

import numpy as np
import pandas as pd

from ._kinds import is_number
from ._warnings import warn

# Fewer rows than this can hold a distinct label in each by chance (names of 30 people).
_IDENTIFIER_MIN_ROWS = 50
_DATE_FORMATS = ("ISO8601", "%m/%d/%Y", "%d/%m/%Y", "%d.%m.%Y")


# The largest magnitude up to which float64, the model's input, holds every integer.
EXACT_INTEGERS = 2.0**53


def warn_of_inexact_integers(name, low, high):
    """Warn where an integer column's values lie beyond what float64 holds exactly (identifiers, nanosecond counts)."""
    largest = max(abs(low), abs(high))
    # Read as float64 already: 2**53 + 1 reads as 2**53, so that bound itself draws the warning.
    if largest < EXACT_INTEGERS:
        return
    warn(
        f"Column {name!r} holds integers up to {largest:.3g} in magnitude, 2**53 or beyond: the model reads "
        "and returns numbers as float64, which holds whole numbers exactly only up to 2**53, so nearby values "
        "read as one and outputs there come back rounded (by up to "
        f"{np.spacing(largest) / 2:.3g}). Subtract an offset (e.g. the column's minimum) first, or drop the "
        "column if it is an identifier.",
        UserWarning,
    )


def warn_about_strings(name, observed, n_levels, numbers_advice=True, holes=False):
    """Warn where a column of strings is a category only because of how it was read.

    ``read_csv`` gives dates as strings, and a table's identifier column
    holds a new value in every row: as categories, dates lose their order
    and an identifier is a category per row that no new row will match
    (``transform`` refuses unknown categories). ``holes``: the column had
    holes beside ``observed``, which the user's X may mark with a string
    (an imputer's ``missing_values="?"``).
    """
    # Values spread over the column, not its first ones: a file sorted with its missing rows
    # first ("nan" strings) put only markers in the first twenty.
    spread = np.unique(np.linspace(0, len(observed) - 1, 20).astype(int)) if len(observed) else []
    sample = observed.iloc[spread]
    if _warned_of_dates(name, sample, n_levels) or _warned_of_times(name, sample, n_levels):
        return
    # Numbers beside other values make infer_dtype "mixed": a column of strings alone is not looked
    # at value by value (0.2-0.3 s a fit for a million rows).
    inferred = pd.api.types.infer_dtype(observed, skipna=True)
    mixed = inferred.startswith("mixed")
    numbers = observed.map(is_number) if mixed else None
    if numbers_advice and mixed and numbers.mean() >= 0.5 and not numbers.all():
        # A stray marker among numbers ("n/a" where a value is missing) turns them all into levels.
        strays = observed[~numbers.to_numpy()]
        markers = list(pd.unique(strays))
        # Every marker in the advice, which would otherwise leave the column categories; a bool
        # there is no marker to replace (replace(True, ...) blanks every 1 too).
        shown = repr(markers[0]) if len(markers) == 1 else repr(markers)
        advice = ""  # pd.to_numeric reads True as 1, and replace(True, ...) blanks every 1 too
        if all(isinstance(marker, str) for marker in markers):
            advice = (f" (X[{name!r}].replace({shown}, np.nan))" if len(markers) <= 10
                      else f" (pd.to_numeric(X[{name!r}], errors='coerce'))")
        warn(
            f"Column {name!r} holds numbers and {_other_values(len(strays), markers)}: it is modelled as a "
            f"category of {n_levels} levels, each number a level of its own, without their order. If they "
            f"mark missing values, replace them with NaN{advice} and the column is read as numbers.",
            UserWarning,
        )
        return
    # read_csv gives a column of numbers with a marker it does not know ("?") as strings: judged
    # on the first values, and only then value by value. A leading zero ("02134") marks codes, and
    # whole numbers each in one row an identifier (warned of below).
    if numbers_advice and inferred == "string":
        codes = any(len(value) > 1 and value[0] == "0" and value[1].isdigit() for value in sample)
        if not codes and (~np.isnan(_as_numbers(sample))).mean() >= 0.5:
            numbers = _as_numbers(observed)
            parsed = ~np.isnan(numbers)
            identifiers = n_levels == len(observed) and bool((numbers[parsed] % 1 == 0).all())
            if parsed.mean() >= 0.5 and not (identifiers and len(observed) >= _IDENTIFIER_MIN_ROWS):
                markers = [str(marker) for marker in pd.unique(observed[~parsed])]
                others = f" and {_other_values(int((~parsed).sum()), markers)}" if markers else ""
                # Where holes were read, the X in hand may mark them with a string the imputer's
                # missing_values took ("?"), on which a plain pd.to_numeric fails.
                convert = (f"pd.to_numeric(X[{name!r}], errors='coerce') (the other values become NaN)"
                           if markers or holes else f"pd.to_numeric(X[{name!r}])")
                warn(
                    f"Column {name!r} holds numbers written as strings (e.g. "
                    f"{str(observed.iloc[int(np.argmax(parsed))])!r}){others}: it is modelled as a category of "
                    f"{n_levels} levels, each number a level of its own, without their order. Convert it with "
                    f"{convert} to model it as numbers (or, if they are codes, make it a pandas Categorical, "
                    "which is read as categories without this warning).",
                    UserWarning,
                )
                return
    if len(observed) < _IDENTIFIER_MIN_ROWS or n_levels <= len(observed) / 2:
        return
    if n_levels == len(observed):
        warn(
            f"Column {name!r} holds a different value in each of its {n_levels} rows (an identifier?): "
            "it is modelled as a category of one row each, which teaches the model nothing about new "
            "rows: their values are unknown categories (an error in transform, or holes with "
            "handle_unknown='ignore'). Drop the column, or convert it if it holds numbers or dates.",
            UserWarning,
        )
        return
    # Mostly such values (vega's car names: 241 levels in 304 rows) fail a cross-validation alike: the
    # held-out folds hold levels no training row did.
    once = int((observed.value_counts(sort=False) == 1).sum())
    if once > len(observed) / 2:
        warn(
            f"Column {name!r} holds a value no other row holds in {once} of its {len(observed)} rows (an "
            "identifier, or free text?): such values teach the model nothing about new rows, which mostly "
            "hold unknown categories (an error in transform, or holes with handle_unknown='ignore'; a "
            "cross-validation's held-out folds too). Drop the column, or convert it if it holds numbers or dates.",
            UserWarning,
        )


def _as_numbers(values):
    """``values`` read as numbers, a float64 array with NaN where one is not a number.

    Through NumPy: ``pd.to_numeric`` of an Arrow string column gives words as
    NaN values, not as missing ones, so ``notna`` counted them as numbers.
    """
    return pd.to_numeric(values, errors="coerce").to_numpy(dtype=float, na_value=np.nan)


def _warned_of_dates(name, sample, n_levels):
    """Warn, and return True, where four in five of ``sample`` (a string column's values) read as dates of one format.

    Judged by shape and then by parsing, in the format that reads the most
    (the first that read four in five took day/month dates for month/day),
    as dates skvae models (years 1678-2261: "6.1.7601" is a version, not a
    day of the 8th millennium): the sample reaches the column's last value,
    where a sort puts markers ("unknown", "0000-00-00") after the dates.
    """
    shaped = np.array([isinstance(value, (datetime.date, np.datetime64)) or (
        isinstance(value, str) and len(value) >= 8 and any(sep in value for sep in "-/.")) for value in sample],
        dtype=bool)
    if shaped.sum() < 0.8 * max(len(sample), 1):
        return False
    candidates = sample[shaped].astype(object)
    read_by = {}
    for date_format in _DATE_FORMATS:
        try:  # errors="coerce" still raises for some inputs (timestamps in several zones)
            read = pd.to_datetime(candidates, format=date_format, errors="coerce")
        except (ValueError, TypeError, OverflowError):
            continue
        if pd.api.types.is_datetime64_any_dtype(read):  # pandas 2 gives objects for several UTC offsets
            read_by[date_format] = read.notna().to_numpy(), read.dt.year.between(1678, 2261).to_numpy()
    if not read_by:
        return False
    date_format = max(read_by, key=lambda f: read_by[f][0].sum())  # ISO first among equals
    readable, in_range = read_by[date_format]
    if (readable & in_range).sum() < 0.8 * len(sample):
        return False
    is_date = readable & in_range
    dates = candidates[is_date]
    unread = np.ones(len(sample), dtype=bool)
    unread[np.flatnonzero(shaped)[readable]] = False
    markers = [value for value, other in zip(sample, unread) if other and isinstance(value, str)]
    # The format in the code, ISO's too: without it pandas guesses one from the first value, and with
    # errors='coerce' blanks the dates written otherwise (times beside plain days).
    coerce = ", errors='coerce'" if unread.any() else ""
    become = ""
    if markers:
        mixed = any(f != date_format and (r[0] & r[1] & ~readable).any() for f, r in read_by.items())
        become = (f" (values it does not read, such as {markers[0]!r}, become missing"
                  f"{', and some of them are dates written in another format: check whether the column mixes them' if mixed else ''})")
    other_order = {"%m/%d/%Y": "%d/%m/%Y", "%d/%m/%Y": "%m/%d/%Y"}.get(date_format)
    ambiguous = ""
    if other_order in read_by and read_by[other_order][0][is_date].all():
        ambiguous = " Both month/day and day/month read these values: check which the file writes."
    strings = [value for value in dates if isinstance(value, str)]
    example, held = (strings[0], "dates as strings") if strings else (dates.iloc[0], "dates as Python objects")
    warn(
        f"Column {name!r} holds {held} (e.g. {example!r}): it is modelled as a category of {n_levels} "
        "levels, without their order, and a date not seen in training is an unknown category. Convert "
        f"it with pd.to_datetime(X[{name!r}], format={date_format!r}{coerce}) to model it as a date"
        f"{become}.{ambiguous}",
        UserWarning,
    )
    return True


_TIME_OF_DAY = r"^\d{1,2}:\d{2}(:\d{2}(\.\d+)?)?$"


def _warned_of_times(name, sample, n_levels):
    """Warn, and return True, where four in five of ``sample`` are times of day: ``datetime.time`` or "14:30[:00]"."""
    strings = pd.Series([value for value in sample if isinstance(value, str)], dtype=object)
    clock = strings[strings.str.match(_TIME_OF_DAY)] if len(strings) else strings
    objects = [value for value in sample if isinstance(value, datetime.time)]
    if len(clock) + len(objects) < 0.8 * max(len(sample), 1):
        return False
    # pd.to_timedelta reads "14:30:00" and str(datetime.time) but not "14:30".
    seconds = all(value.count(":") == 2 for value in clock)
    convert = f"pd.to_timedelta(X[{name!r}].astype(str))" if seconds else f"pd.to_timedelta(X[{name!r}] + ':00')"
    example, held = (clock.iloc[0], "times of day as strings") if len(clock) else (objects[0], "times of day as Python objects")
    warn(
        f"Column {name!r} holds {held} (e.g. {example!r}): it is modelled as a category of {n_levels} "
        "levels, without their order, and a time not seen in training is an unknown category. Convert it "
        f"with {convert} to model it as a duration since midnight.",
        UserWarning,
    )
    return True


def _other_values(count, markers):
    """``count`` values beside a column's numbers, and the first of their distinct ``markers``, in words."""
    shown = ", ".join(map(repr, markers[:5])) + (", ..." if len(markers) > 5 else "")
    return f"{count} other value{'s' if count != 1 else ''} ({shown})"
