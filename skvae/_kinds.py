"""What a DataFrame column holds, and the likelihood ``likelihood="auto"`` gives it.

A column's kind comes from its dtype (``column_kind``), an object column of
numbers being read as numbers (``kind_of_column``). ``likelihood="auto"``
then gives each column the first registered likelihood that takes its kind
and its observed range (``auto_likelihood``), judging a table's columns by
the ranges ``auto_ranges`` sets: a frame of pixels as one image, a table's
numbers in [0, 1] as measurements unless they are flags.
"""

import decimal
from dataclasses import dataclass

import numpy as np
import pandas as pd

from .nn import LIKELIHOODS


def column_kind(dtype, name=None):
    """What a DataFrame column holds, as ``likelihood="auto"`` and ``values`` read it.

    One of "bool", "integer", "float", "datetime", "timedelta" and
    "category" (pandas categories, strings and objects). ``name``, the
    column's, for the error a dtype no likelihood takes raises.
    """
    which = "" if name is None else f"Column {name!r}: "
    if isinstance(dtype, pd.SparseDtype):
        raise ValueError(
            f"{which}skvae does not read pandas' sparse columns ({dtype}): make them dense, X.astype({{c: d.subtype "
            "for c, d in X.dtypes.items() if isinstance(d, pd.SparseDtype)}), or, where every column is "
            "sparse with fill value 0, pass X.sparse.to_coo().tocsr(), a scipy sparse matrix, which "
            "skvae reads sparsely."
        )
    if isinstance(dtype, pd.ArrowDtype):  # kinds pandas' own tests do not see in pyarrow's types
        import pyarrow as pa

        if pa.types.is_duration(dtype.pyarrow_dtype):
            return "timedelta"
        if pa.types.is_dictionary(dtype.pyarrow_dtype):  # pyarrow's categories
            return "category"
        if pa.types.is_decimal(dtype.pyarrow_dtype):  # money, read as floats
            return "float"
    if pd.api.types.is_bool_dtype(dtype):
        return "bool"
    if isinstance(dtype, pd.CategoricalDtype) or pd.api.types.is_object_dtype(dtype) or pd.api.types.is_string_dtype(dtype):
        return "category"
    if pd.api.types.is_datetime64_any_dtype(dtype):
        return "datetime"
    if pd.api.types.is_timedelta64_dtype(dtype):
        return "timedelta"
    if pd.api.types.is_integer_dtype(dtype):
        return "integer"
    if pd.api.types.is_float_dtype(dtype):
        return "float"
    raise ValueError(
        f"{which}skvae cannot model columns of dtype {dtype}: it takes numbers, booleans, dates, "
        "durations, categories and strings. Convert the column (e.g. with astype) or drop it."
    )


# What pandas' infer_dtype calls an object column that holds numbers.
OBJECT_NUMBERS = ("integer", "floating", "mixed-integer-float", "decimal")


def kind_of_column(series):
    """``column_kind`` of a training column, reading an object column of numbers as numbers.

    pandas holds numbers beside a None as objects ([1.5, None] built with
    dtype=object, rows from JSON): by dtype alone such a column would be a
    category per distinct value. ``values`` reads them as numbers too, and
    outputs give them back as objects. (Booleans beside a None stay a
    two-level category, which models them as well.)
    """
    kind = column_kind(series.dtype, series.name)
    if kind == "category" and series.dtype == object:
        read = object_numbers(series)
        # Numbers pandas can hold as numbers (not ints beyond uint64's range); decimal.Decimal
        # values (polars' Decimal and databases' money columns arrive so) as floats.
        if read is not None and read.numbers.dtype.kind in "iuf":
            return "integer" if read.inferred == "integer" else "float"
    return kind


def is_number(value):
    """Whether one value of an object column is a number ``values`` reads (a bool is not; a Decimal is)."""
    return isinstance(value, (int, float, np.integer, np.floating, decimal.Decimal)) and not isinstance(
        value, (bool, np.bool_))


def decimal_places(observed):
    """The most digits after the point among a column's values if every one is a ``decimal.Decimal``; else None."""
    places = 0
    for value in observed:
        if not isinstance(value, decimal.Decimal) or not value.is_finite():
            return None
        places = max(places, -value.as_tuple().exponent)
    return places if len(observed) else None


# Beyond this many digits after the point a float column is taken as measured, not written to a fixed
# precision: its draws keep every digit.
MAX_SAMPLE_PLACES = 6


def float_places(observed):
    """The fewest digits after the point (up to ``MAX_SAMPLE_PLACES``) that show every one of a float column's
    observed values exactly, in their own dtype; None for more, or none observed.

    A float column of whole numbers (an integer column with holes, as
    ``read_csv`` gives it) gives 0; penguins' bill lengths, 1.
    """
    values = np.asarray(observed)
    if not values.size or values.dtype.kind != "f" or not np.isfinite(values).all():
        return None
    # A few values first: a measured column fails on them at every precision, at no cost for its length.
    probe = values[:: max(1, values.size // 1000)]
    # Rounded in their own dtype, where float16's scaling by 10**places overflows from 5 places: an
    # overflowed value equals no value, which is the answer (numpy's warnings of it name no column).
    with np.errstate(over="ignore", invalid="ignore"):
        for places in range(MAX_SAMPLE_PLACES + 1):
            if np.array_equal(np.round(probe, places), probe) and np.array_equal(np.round(values, places), values):
                return places
    return None


@dataclass(frozen=True)
class _ObjectNumbers:
    inferred: str  # pandas' infer_dtype name for them
    numbers: pd.Series  # pd.to_numeric of the column


def object_numbers(series):
    """An object column read as numbers (``_ObjectNumbers``); None unless every value is a number pandas reads.

    Decimals beside floats are "mixed" to pandas, beside ints "mixed-integer".
    """
    inferred = pd.api.types.infer_dtype(series, skipna=True)
    if inferred not in OBJECT_NUMBERS:
        if inferred not in ("mixed", "mixed-integer") or not all(is_number(v) for v in series.dropna()):
            return None
        inferred = "mixed-integer-float"
    try:
        return _ObjectNumbers(inferred, pd.to_numeric(series))
    except (TypeError, ValueError):  # NaT among them, ints beyond uint64
        return None


def auto_likelihood(kind, low=-np.inf, high=np.inf, better=()):
    """The registered likelihood that ``likelihood="auto"`` gives a column of this kind and observed range.

    First one that takes the kind when every value lies in its support
    (``auto_dtypes_in_support``), then one among ``better`` (the names
    whose fit test, ``fits_better``, the column passed), then one that
    takes the kind.
    """
    # Durations are numbers of nanoseconds: whatever takes floats takes them.
    kind = "float" if kind == "timedelta" else kind
    for name, cls in LIKELIHOODS.items():
        if kind in cls.auto_dtypes_in_support and cls.in_support(low, high):
            return name
    if better:
        return better[0]
    for name, cls in LIKELIHOODS.items():
        if kind in cls.auto_dtypes:
            return name
    raise ValueError(f"No likelihood takes columns of kind {kind!r} under likelihood='auto'.")


# "auto" takes numbers in [0, 1] for Bernoulli probabilities only where at
# least this share of them sit exactly at 0 or 1 (a flag's values, an image's
# background): numbers scaled into [0, 1] (MinMaxScaler, two values a column
# at the bounds) are measurements: as probabilities they were imputed with
# several times the error, and an outlier detector refused new rows past
# the training range.
BOUND_SHARE = 0.1


def piled_at_bounds(columns):
    """Whether ``BOUND_SHARE`` of the observed values sit exactly at 0 or 1.

    ``columns``: each column's ``(at 0 or 1, observed, smallest, largest)``.
    A flag (a column of 0 and 1 alone) says nothing of its neighbours: one
    among nine MinMax-scaled measurements (load_diabetes' sex) had made them
    all probabilities. Nor do the one value at 0 and the one at 1 that a
    MinMaxScaler puts in every column: on 20 rows they are a tenth of it.
    Flags alone are probabilities; an image's blank border (a column of 0
    alone) still counts.
    """
    measured = [(hits - (low == 0.0) - (high == 1.0), count) for hits, count, low, high in columns
                if not (hits == count and low == 0.0 and high == 1.0)]
    if not measured:
        return True
    return sum(hits for hits, _ in measured) >= BOUND_SHARE * sum(count for _, count in measured)


def auto_ranges(kinds, low, high, two_valued, at_bounds):
    """The ranges ``likelihood="auto"`` judges a DataFrame's columns by.

    Where every column is numeric of one kind (all floats or all integers,
    as an image's pixels come; a constant integer column aside), lies in
    [0, 1] and ``BOUND_SHARE`` of their values sit exactly at 0 or 1
    (pixels of images, flags), each
    column's own range, as for an array. Otherwise a column counts as lying
    in [0, 1] only when it takes just 0 and 1 (a flag): small measurements
    that happen to fall in [0, 1] (a smoothness of 0.05 to 0.16) are not
    probabilities, and scored as such they lost a breast-cancer mu(x) 2
    points of accuracy; nor are a table's shares beside a category, a bool
    or a date (a discount, 15% of it at 0), which as Bernoulli columns
    ``sample`` gave their probabilities, without their spread (standard
    deviation 0.038 against the data's 0.173), or beside a 0/1 integer
    flag, which made them pixels alike.
    ``at_bounds``: each column's count of observed values exactly 0 or 1, and of observed values.
    """
    numeric = [k for k, kind in enumerate(kinds) if kind in ("float", "integer")]
    unit = all(0.0 <= low[k] and high[k] <= 1.0 for k in numeric)
    # A constant integer column (a blank border of pixels, which a CSV round trip makes integers) is
    # no other kind. Its values still count at the bounds, as an array's would.
    varying = [k for k in numeric if not (kinds[k] == "integer" and low[k] == high[k])]
    one_kind = len(numeric) == len(kinds) and len({kinds[k] for k in varying}) <= 1
    if not numeric or (one_kind and unit and piled_at_bounds([(*at_bounds[k], low[k], high[k]) for k in numeric])):
        return low, high
    flag = [two_valued[k] and low[k] in (0.0, 1.0) and high[k] in (0.0, 1.0) for k in range(len(kinds))]
    return ([lo if f else -np.inf for lo, f in zip(low, flag)], [hi if f else np.inf for hi, f in zip(high, flag)])


def check_likelihood_dict(likelihood, names):
    """Refuse a ``likelihood`` dict that names a column X (of these column ``names``) lacks, or no likelihood."""
    unknown = [key for key in likelihood if key not in names]
    if unknown:
        raise ValueError(f"likelihood names columns X does not have: {unknown}. X's columns: {names[:20]}.")
    bad = {key: value for key, value in likelihood.items() if not (isinstance(value, str) and value in LIKELIHOODS)}
    if bad:
        raise ValueError(f"likelihood maps columns to unknown likelihoods {bad}; choose from {sorted(LIKELIHOODS)}.")


def choose_likelihoods(names, kinds, likelihood, low, high, better=None):
    """The likelihood name of each column; ``better``, per column, the names whose fit test it passed."""
    better = better or [()] * len(names)
    if isinstance(likelihood, dict):
        check_likelihood_dict(likelihood, names)
        return [likelihood.get(name, auto_likelihood(kind, lo, hi, fit))
                for name, kind, lo, hi, fit in zip(names, kinds, low, high, better)]
    if likelihood == "auto":
        return [auto_likelihood(kind, lo, hi, fit) for kind, lo, hi, fit in zip(kinds, low, high, better)]
    return [likelihood] * len(names)
