"""The user's columns: which likelihood each gets, and the way between X as given and a float matrix.

``Schema.fit`` reads X (a numeric array, a scipy sparse matrix or a pandas
DataFrame of mixed types) and the estimator's ``likelihood`` and records,
for every column, its name, dtype, likelihood, categories and whether it
had holes. Then:

* ``read(X)`` is X without the columns no output reads (``unread``: a
  ``VAEImputer``'s columns without an observed value at fit), the X every
  other method reads;
* ``values(X)`` is X as the model's front (``skvae.nn.columns``) reads it:
  floats, one column per column of X, a category as its index, a date as
  nanoseconds since the epoch, NaN where an entry is missing (a float
  array is passed through as it is);
* ``restore(values)`` is the way back, the one used by
  ``inverse_transform``, ``sample``, the imputer and loaded models: an
  array, or a DataFrame with the training columns and dtypes (integers
  rounded, booleans thresholded, categories and dates restored, float32
  and nullable dtypes kept).

What kind each column is and which likelihood "auto" gives it is
``skvae._kinds``; restoring one column, ``skvae._restore``; warning of a
column read otherwise than meant (dates or numbers as strings, an
identifier), ``skvae._column_advice``.
"""

import dataclasses
from dataclasses import dataclass, field

import numpy as np
import pandas as pd
import scipy.sparse as sp

from ._column_advice import warn_about_strings, warn_of_inexact_integers
from ._data import FLOAT32_MAX, STAT_BLOCK_ROWS, in_float_range, row_blocks
from ._kinds import (
    auto_ranges,
    check_likelihood_dict,
    choose_likelihoods,
    column_kind,
    decimal_places,
    float_places,
    is_number,
    kind_of_column,
    object_numbers,
    piled_at_bounds,
)
from ._restore import restore_column
from ._times import finer_step, nanoseconds, time_step, time_zone
from .nn import LIKELIHOODS


@dataclass
class Column:
    """One column of X: name, likelihood, dtype, kind, categories, holes, and its training range and missing rate.

    ``low`` and ``high`` (numeric columns) and ``missing_rate`` serve
    ``sample``: drawn rows stay in the range the column was seen in, and
    holes come back at the rate they were seen at. ``censored`` says
    whether the likelihood treats ``low`` and ``high`` as censoring bounds.
    ``step`` (dates and durations) is the coarsest unit, in nanoseconds,
    that every training value is a whole number of (a day, an hour, ...):
    decoded and drawn values are rounded to it, as integers are to 1.
    ``decimal_places``: for an object column of ``decimal.Decimal`` values
    (money read from a database), the most digits after the point among
    them; its values come back as Decimals rounded to that many.
    ``sample_places``: for a frame's float column of real values, the
    fewest digits after the point that show every training value
    (``skvae._kinds.float_places``, None beyond 6): ``sample`` rounds its
    rows to them, as SDV's synthesizers do (a float column of whole
    numbers, an integer column with holes, samples whole numbers).
    """

    name: object
    likelihood: str
    dtype: object = None
    kind: str = "float"
    categories: np.ndarray | None = None
    has_missing: bool = False
    low: float = -np.inf
    high: float = np.inf
    missing_rate: float = 0.0
    censored: tuple = (False, False)
    step: int = 0
    decimal_places: int | None = None
    sample_places: int | None = None
    _lookup: object = field(default=None, init=False, repr=False, compare=False)

    def category_lookup(self):
        """``categories`` as a pandas Index, built once (its hash table cost a one-row call 0.1 ms)."""
        if self._lookup is None:
            self._lookup = pd.Index(self.categories)
        return self._lookup

    def __getstate__(self):
        # The lookup is rebuilt where it is needed, not pickled beside the categories.
        return {**self.__dict__, "_lookup": None}


def _unobserved(name, n_rows, pixel=False):
    # A pixel cannot be dropped: the image would no longer tile image_shape.
    advice = ("Fill it (e.g. with the background's value), or fit on images where it is observed." if pixel
              else "Drop the column, or fit on rows where it is observed (in a cross-validation, where a "
                   "fold's training rows may lack a column observed only late in the data: shuffle the folds, "
                   "KFold(shuffle=True), or drop the column before the search).")
    raise ValueError(
        f"Column {name!r} has no observed value in the {n_rows} training rows: there is "
        f"nothing to learn it from. {advice}"
    )


@dataclass(eq=False)
class Schema:
    """X's columns, and the way between X as given and the float matrix the model reads."""

    columns: list
    frame: bool = False
    _likelihood_groups: list = field(default=None, repr=False)
    # Whether a frame's tuple labels were a MultiIndex (True: pandas builds one from them, as it
    # did for every frame before the fit recorded it) or a flat Index of tuples.
    nested_labels: bool = True
    # X's columns that no model column reads, as (position in X, name) pairs: a VAEImputer's columns
    # without an observed value at fit (``skip_unobserved``), which it leaves out or fills with 0.
    unread: tuple = ()

    # ----------------------------------------------------------- fitting

    @classmethod
    def fit(cls, X, likelihood, *, as_one=False, given_dtype=None, skip_unobserved=False):
        """The schema of X's columns; ``as_one``: "auto" decides for all columns at once (an image's pixels).

        ``given_dtype``: an array X's dtype before it was read; a float16 or
        float32 one is kept as its columns' dtype, in which a warm start's
        ranges are then compared (None: a float64 array's columns hold none).
        ``skip_unobserved``: a column without an observed value becomes one
        of ``unread`` rather than refused (but a pixel, and X without any
        observed column); an array's columns keep their positions in X as
        their names.
        """
        unobserved = _unobserved_columns(X) if skip_unobserved and not as_one and X.shape[0] else []
        if unobserved:
            if len(unobserved) == X.shape[1]:
                raise ValueError(
                    f"X holds no observed value in any of its {X.shape[1]} columns ({X.shape[0]} rows): there "
                    "is nothing to learn from. Fit on rows that hold values."
                )
            kept = np.setdiff1d(np.arange(X.shape[1]), unobserved)
            read = X.iloc[:, kept] if isinstance(X, pd.DataFrame) else X[:, kept]
            if isinstance(likelihood, dict):
                # Named by X's columns: an array's positions are the read columns' places here, and an
                # unread column's likelihood has nothing to model (one fold's rows may lack its values).
                check_likelihood_dict(likelihood, list(X.columns) if isinstance(X, pd.DataFrame) else list(range(X.shape[1])))
                place = {position: k for k, position in enumerate(kept.tolist())}
                names = set(X.columns[unobserved]) if isinstance(X, pd.DataFrame) else set(unobserved)
                likelihood = {key if isinstance(X, pd.DataFrame) else place.get(key, key): kind
                              for key, kind in likelihood.items() if key not in names}
            schema = cls.fit(read, likelihood, given_dtype=given_dtype)
            if not schema.frame:
                for column, position in zip(schema.columns, kept.tolist()):
                    column.name = position
            names = list(X.columns) if schema.frame else list(range(X.shape[1]))
            schema.unread = tuple((j, names[j]) for j in unobserved)
            return schema
        frame = isinstance(X, pd.DataFrame)
        names = list(X.columns) if frame else list(range(X.shape[1]))
        kinds = [kind_of_column(series) for _, series in X.items()] if frame else ["float"] * len(names)
        if frame:
            # The fit tests run only for the columns "auto" decides.
            by_auto = [not as_one and (likelihood == "auto" or (isinstance(likelihood, dict) and name not in likelihood))
                       for name in names]
            summaries = (_numeric_range(X.iloc[:, j], kind, judge=by_auto[j]) for j, kind in enumerate(kinds))
            low, high, flags, better, piled, at_bounds, holes = zip(*summaries)
            if as_one:
                # One kind of data, as an array is: one likelihood for every pixel, none censored,
                # and Bernoulli only where BOUND_SHARE of the values sit at 0 or 1, as for an array.
                whole = ([min(low)] * len(names), [max(high)] * len(names))
                if not piled_at_bounds([(*counts, lo, hi) for counts, lo, hi in zip(at_bounds, low, high)]):
                    whole = ([-np.inf] * len(names), [np.inf] * len(names))
                chosen = choose_likelihoods(names, kinds, likelihood, *whole)
            else:
                chosen = choose_likelihoods(names, kinds, likelihood, *auto_ranges(kinds, low, high, flags, at_bounds), better)
        else:
            holes, low, high, at_bounds = _array_summary(X)
            _refuse_infinities(X, low, high)
            # An array is one kind of data: "auto" decides for all its columns at once.
            whole = ([np.min(low, initial=np.inf)] * len(names), [np.max(high, initial=-np.inf)] * len(names))
            observed = X.shape[0] - holes
            if not piled_at_bounds(list(zip(at_bounds, observed, low, high))):
                whole = ([-np.inf] * len(names), [np.inf] * len(names))  # numbers, not probabilities
            chosen = choose_likelihoods(names, kinds, likelihood, *whole)
        if not frame:
            if any(LIKELIHOODS[name].takes_categories for name in chosen):
                what = "A sparse matrix" if sp.issparse(X) else "An array"
                frame = "pd.DataFrame(X.toarray())" if sp.issparse(X) else "pd.DataFrame(X)"
                raise ValueError(f"{what} holds numbers: categorical columns need a DataFrame ({frame} gives "
                                 "integer codes as categories to likelihood='categorical').")
            for j in names:
                if X.shape[0] and holes[j] == X.shape[0]:
                    _unobserved(j, X.shape[0], pixel=as_one)
            narrow = _narrow_float(given_dtype)
            columns = [Column(j, chosen[j], dtype=None if narrow is None else np.dtype(narrow), has_missing=bool(holes[j] > 0),
                              low=float(low[j]), high=float(high[j]), missing_rate=float(holes[j]) / max(X.shape[0], 1))
                       for j in names]
            return cls(columns)
        columns = []
        for j, name in enumerate(names):
            series = X.iloc[:, j]
            column = Column(name, chosen[j], dtype=series.dtype, kind=kinds[j])
            # A numeric column's holes as its values read them: an Arrow float column can hold NaN
            # beside missing values, where isna is False (a file polars wrote).
            missing = series.isna().to_numpy() if holes[j] is None else holes[j]
            if missing.all():
                _unobserved(name, len(series), pixel=as_one)
            if LIKELIHOODS[column.likelihood].takes_categories:
                column.categories = _categories(series)
                if kinds[j] == "category" and not isinstance(series.dtype, pd.CategoricalDtype):
                    # Numbers a user named categorical are codes by their choice: no advice to convert.
                    named = likelihood != "auto" if isinstance(likelihood, str) else \
                        isinstance(likelihood, dict) and name in likelihood
                    warn_about_strings(name, series[~missing], len(column.categories), numbers_advice=not named,
                                       holes=bool(missing.any()))
            elif kinds[j] == "category":
                raise ValueError(
                    f"Column {name!r} holds {series.dtype} values, which a {column.likelihood} likelihood "
                    f"cannot take. Use likelihood='auto' or {{{name!r}: 'categorical'}}."
                )
            column.has_missing = bool(missing.any())
            column.missing_rate = float(missing.mean())
            if column.kind in ("datetime", "timedelta") and column.categories is None:
                column.step = time_step(series[~missing], column.kind)
            if column.kind == "float" and series.dtype == object:
                column.decimal_places = decimal_places(series[~missing])
            if column.kind == "float" and column.decimal_places is None and _real_valued(column):
                # An object column's floats (pandas' way to hold them beside None) as float64: not left unrounded.
                numpy_dtype = np.float64 if series.dtype == object else \
                    np.dtype(getattr(series.dtype, "numpy_dtype", series.dtype))
                column.sample_places = float_places(series.to_numpy(dtype=numpy_dtype, na_value=np.nan)[~missing])
            columns.append(column)
        for j, column in enumerate(columns):
            if column.categories is None:
                column.low, column.high = low[j], high[j]
                if column.kind == "integer":
                    warn_of_inexact_integers(column.name, low[j], high[j])
            share = LIKELIHOODS[column.likelihood].censor_share
            if by_auto[j] and column.kind == "float" and share is not None:
                column.censored = (bool(piled[j][0] > share), bool(piled[j][1] > share))
        return cls(columns, frame=True, nested_labels=isinstance(X.columns, pd.MultiIndex))

    @property
    def likelihoods(self):
        return [column.likelihood for column in self.columns]

    @property
    def input_names(self):
        """The names of all of X's columns, in X's order: the columns' and the unread ones'."""
        names = [column.name for column in self.columns]
        for position, name in self.unread:
            names.insert(position, name)
        return names

    @property
    def unread_positions(self):
        """Positions in X of the ``unread`` columns, in order."""
        return [position for position, _ in self.unread]

    @property
    def read_positions(self):
        """Positions in X of the columns the model reads (``columns``, in order)."""
        unread = set(self.unread_positions)
        return [j for j in range(len(self.columns) + len(unread)) if j not in unread]

    def unread_part(self, X):
        """X's ``unread`` columns (X with all its columns: a frame's, or a dense array) and their holes.

        A hole as the columns' entries read it: NaN in an Arrow column too.
        """
        positions = self.unread_positions
        if isinstance(X, pd.DataFrame):
            part = X.iloc[:, positions]
            return part, _holes(part)
        part = X[:, positions]
        part = part.toarray() if sp.issparse(part) else np.asarray(part)
        return part, np.isnan(part)

    def unread_holding_values(self, X):
        """Names of the ``unread`` columns in which X (all its columns) holds an observed value."""
        holding = ~self.unread_part(X)[1].all(axis=0)
        return [name for (_, name), holds in zip(self.unread, holding) if holds]

    def read(self, X):
        """X (validated, all its columns) without the ``unread`` ones: the X the model's columns are.

        X itself where none is unread.
        """
        if not self.unread:
            return X
        kept = self.read_positions
        return X.iloc[:, kept] if isinstance(X, pd.DataFrame) else X[:, kept]

    def with_time_steps_of(self, X):
        """This schema, or a copy whose date and duration steps also fit X's values (a continued fit's block).

        A first block of whole days must not round a later hourly block to days.
        """
        if not self.frame:
            return self
        columns, changed = list(self.columns), False
        for j, column in enumerate(columns):
            if column.kind not in ("datetime", "timedelta") or column.categories is not None or not column.step:
                continue
            observed = X.iloc[:, j].dropna()
            step = finer_step(column.step, time_step(observed, column.kind)) if len(observed) else column.step
            if step != column.step:
                columns[j], changed = dataclasses.replace(column, step=step), True
        return dataclasses.replace(self, columns=columns) if changed else self

    @property
    def censored(self):
        """Censored columns' ``(low, high)`` flags, by column index."""
        return {j: c.censored for j, c in enumerate(self.columns) if any(c.censored)}

    @property
    def n_categories(self):
        """Categories of each categorical column, by column index."""
        return {j: len(c.categories) for j, c in enumerate(self.columns) if c.categories is not None}

    @property
    def flagged(self):
        """Columns with holes at fit, which get a missing-value indicator input."""
        return [j for j, column in enumerate(self.columns) if column.has_missing]

    def fitted_attributes(self):
        """What an estimator reports of its columns, by name: ``column_likelihoods_``,
        ``column_categories_`` (copies) and ``censored_bounds_``."""
        return {
            "column_likelihoods_": {c.name: c.likelihood for c in self.columns},
            "column_categories_": {c.name: c.categories.copy() for c in self.columns if c.categories is not None},
            "censored_bounds_": {c.name: (c.low if c.censored[0] else None, c.high if c.censored[1] else None)
                                 for c in self.columns if any(c.censored)},
        }

    # ------------------------------------------------------------ values

    def values(self, X, first_row=0, *, handle_unknown="error", training=False):
        """X as floats, one column per column of X (see the module docstring).

        A dense float array comes back as it is, without a copy.
        ``handle_unknown`` is the estimator's parameter as it is now (read
        at each call, as ``OneHotEncoder`` reads its own): "error" refuses a
        category unseen at fit, "ignore" makes it a hole. ``training``: X
        continues a fit (``partial_fit``, a warm start), whose refusal then
        says how to declare every level up front.
        """
        if sp.issparse(X):
            X = X.toarray()
        if not self.frame:
            X = np.asarray(X)
            return X if X.dtype.kind == "f" else X.astype(np.float64)
        values = np.empty((X.shape[0], len(self.columns)), dtype=np.float64)
        # items(), not iloc: half the cost a column, which a one-row call notices.
        for j, (column, (_, series)) in enumerate(zip(self.columns, X.items())):
            values[:, j] = self._column_values(series, column, first_row, handle_unknown, training)
        if not np.isfinite(values.sum()) and np.isinf(values).any():  # a finite sum: no infinity, cheaply
            # An infinity would otherwise reach the column's statistics and poison every row's
            # encoding (a later error then named a finite entry of row 0).
            row, j = (int(k) for k in np.argwhere(np.isinf(values))[0])
            raise infinite_value_error(f"Column {self.columns[j].name!r} holds {values[row, j]} "
                                       f"({_row_named(X, first_row, row)})")
        return values

    def _column_values(self, series, column, first_row, handle_unknown="error", training=False):
        if column.categories is not None:
            return self._category_index(series, column, first_row, handle_unknown, training)
        kind = column.kind
        if series.dtype == object and kind in ("bool", "integer", "float", "datetime", "timedelta"):
            # How pandas holds numbers or booleans beside a None: [True, None] is an object column.
            # (Strings of digits are not numbers here, as they are not at fit.)
            read = object_numbers(series) if kind in ("bool", "integer", "float") else None
            if read is not None:
                series = read.numbers
            elif series.isna().all():
                # Holes alone, as a record read from JSON holds one ({"amount": None}): a row's
                # result must not depend on whether a row with a value comes with it.
                return np.full(len(series), np.nan)
            elif pd.api.types.infer_dtype(series, skipna=True) == "boolean":
                series = pd.to_numeric(series)
        given = column_kind(series.dtype, column.name)
        if given == "category" and kind in ("integer", "float"):
            stray = next(((row, value) for row, value in enumerate(series)
                          if not is_number(value) and not pd.isna(value)), None)
            if stray is not None:  # the value itself: the column's dtype is only what pandas made of it
                row, value = stray
                raise ValueError(
                    f"Column {column.name!r} holds {value!r} ({_row_named(series, first_row, row)}), which a "
                    f"{column.likelihood} likelihood cannot take: it held {kind} values at fit. Give numbers, "
                    f"and holes as NaN (pd.to_numeric(X[{column.name!r}], errors='coerce') makes every other "
                    "value a hole)."
                )
        if given == "category":
            held = "values it cannot read as numbers" if series.dtype == column.dtype else f"{series.dtype} values"
            raise ValueError(
                f"Column {column.name!r} holds {held}, which a {column.likelihood} likelihood cannot take: "
                f"it held {column.kind} values at fit. Pass the column as it was at fit."
            )
        if given in ("datetime", "timedelta") and kind not in ("datetime", "timedelta"):
            # Their ticks would be read as numbers, in whatever unit the dtype holds them.
            convert = ".dt.total_seconds()" if given == "timedelta" else " as the numbers it held"
            raise ValueError(
                f"Column {column.name!r} holds {series.dtype} values but held {column.dtype} at fit: "
                f"{'durations' if given == 'timedelta' else 'dates'} are not read as numbers (their unit is "
                f"unknown). Pass the column as it was at fit (e.g. X[{column.name!r}]{convert})."
            )
        if kind in ("datetime", "timedelta"):
            if given != kind:
                if series.isna().all():  # a column of holes, as pandas makes it from NaN or None
                    return np.full(len(series), np.nan)
                convert = "pd.to_datetime(..., unit='s')" if kind == "datetime" else "pd.to_timedelta(..., unit='s')"
                raise ValueError(
                    f"Column {column.name!r} holds {series.dtype} values but held {column.dtype} at fit: "
                    f"numbers are not read as {'dates' if kind == 'datetime' else 'durations'} (their unit "
                    f"is unknown). Pass the column as it was at fit (e.g. {convert})."
                )
            zone = time_zone(series.dtype)
            if kind == "datetime" and (zone is None) != (time_zone(column.dtype) is None):
                if series.isna().all():  # holes alone, which pandas types without the zone (a record's NaT)
                    return np.full(len(series), np.nan)
                raise ValueError(
                    f"Column {column.name!r} holds {series.dtype} values but held {column.dtype} at fit: "
                    "times with and without a time zone cannot be compared. Localize or convert the "
                    "column (Series.dt.tz_localize, .dt.tz_convert) as it was at fit."
                )
            if kind == "datetime" and zone is not None:
                series = series.dt.tz_convert("UTC").dt.tz_localize(None)
            ns = nanoseconds(series, kind, column.name)
            out = ns.view(np.int64).astype(np.float64)
            out[np.isnat(ns)] = np.nan
            return out
        try:
            return series.to_numpy(dtype=np.float64, na_value=np.nan)
        except (TypeError, ValueError):
            raise ValueError(
                f"Column {column.name!r} was {column.dtype} at fit but now holds {series.dtype} values "
                "that are not numbers."
            ) from None

    def _category_index(self, series, column, first_row, handle_unknown, training=False):
        if isinstance(series.dtype, pd.CategoricalDtype):
            # By its codes: a Categorical with a hole reads as float64 through np.asarray (2**53 + 1
            # became 2**53), and astype(object) costs a one-row call twice as much.
            codes = series.cat.codes.to_numpy()
            values = np.full(len(codes), np.nan, dtype=object)
            observed = codes >= 0
            values[observed] = series.cat.categories.to_numpy(dtype=object)[codes[observed]]
        else:
            values = np.asarray(series, dtype=object)
        missing = pd.isna(values)
        try:
            index = column.category_lookup().get_indexer(values).astype(np.float64)
        except TypeError:
            raise _unhashable_values(values, column.name) from None
        index[missing] = -1
        unknown = (index < 0) & ~missing
        if unknown.any() and handle_unknown == "error":
            # Python's values, unquoted numbers beside numbers: a 5 shown as '5' beside np.int64(0) read as a
            # string among integers.
            found = sorted({plain_value(value) for value in values[unknown]}, key=str)
            advice = ("Set handle_unknown='ignore' to treat them as missing: set_params(handle_unknown="
                      "'ignore') on a fitted model takes effect at once; in a fitted VAEOutlierDetector, "
                      "detector.estimator_.set_params(handle_unknown='ignore') (which then scores such a value "
                      "as a hole, not as unusual).")
            if training:
                # "ignore" would train on without ever learning the new levels.
                advice = (f"The first fit call fixes a column's levels: to learn these, give the column "
                          f"every level up front, as a pandas Categorical dtype (X.astype({{{column.name!r}: "
                          "pd.CategoricalDtype(all_levels)})), and start again from the first block on a "
                          "new estimator (clone(estimator)), or with fit and warm_start=False; "
                          "handle_unknown='ignore' would treat them as missing, never learning them.")
            raise ValueError(
                f"Column {column.name!r} holds categories not seen at fit: {found[:10]} (first in "
                f"{_row_named(series, first_row, int(np.argmax(unknown)))}). Known: "
                f"{[plain_value(level) for level in list(column.categories)[:20]]}. {advice}"
            )
        index[index < 0] = np.nan
        return index

    def check(self, values, *, fitted=True):
        """Raise if ``values`` hold entries a column's likelihood cannot score (NaN aside).

        Values that only enter the encoder (``transform``, an imputer's
        fill) are not checked: as ``PCA.transform`` takes values beyond the
        training range, a Bernoulli column's encoder takes a 2 it never saw
        at fit, and only scoring it is refused (``inputs_far_beyond_support``
        finds what a call warns of). ``fitted``: the likelihoods are a
        fitted model's, which only a refit changes (the advice says so).
        """
        if sp.issparse(values):
            return self._check_sparse(values, fitted)
        for kind, group in self._groups():
            cls = LIKELIHOODS[kind]
            low, high = cls.support
            whole = len(group) == values.shape[1]
            block = values if whole else values[:, group]
            if _counts(cls):
                # Where an array's columns share their likelihood, the advice is for X, as its range
                # errors'; where it was given per column, for the column.
                named = self.frame or not whole
                _check_whole(block, kind, [self.columns[j].name for j in group] if named else None, fitted)
            if low == -np.inf and high == np.inf:
                continue
            if cls.in_support(*_nanmin_nanmax(block)):
                continue
            if whole:
                _check_support(block, kind, cls, None, fitted)
            for k, j in enumerate(group):
                _check_support(block[:, k], kind, cls, self.columns[j].name, fitted)

    def inputs_far_beyond_support(self, values):
        """``{column: (min, max)}`` of the columns whose values the encoder cannot read as it was fitted to.

        Those past their likelihood's support by more than its width (a
        Bernoulli column's 16), or past it at all where the encoder reads
        them as its bound (``inputs_clamped``: a log-normal column's -5 as
        0). A scaler fitted on other rows puts a new row a little past [0,
        1] (a fold's 1.02); pixels of 0-255 given to a model fitted on them
        divided by 255 lie far past it, and their codes and fills mean little.
        """
        far = {}
        for kind, group in self._groups():
            cls = LIKELIHOODS[kind]
            low, high = cls.support
            if cls.inputs_clamped:
                (low, high), reach = cls.support_bounds(), 0.0
            elif np.isfinite(low) and np.isfinite(high):
                reach = high - low
            else:
                continue
            block = values[:, group] if len(group) < values.shape[1] else values
            if sp.issparse(block):
                # Implicit zeros lie in the support: the stored entries alone can lie past it.
                block = sp.csc_matrix(block)
                columns = [block.data[block.indptr[k] : block.indptr[k + 1]] for k in range(block.shape[1])]
            else:
                smallest, largest = _nanmin_nanmax(block)
                if low - reach <= smallest and largest <= high + reach:
                    continue  # the usual call: one pass over the block
                columns = np.asarray(block).T
            for j, column in zip(group, columns):
                smallest, largest = _nanmin_nanmax(column)
                if smallest < low - reach or largest > high + reach:
                    far[j] = (smallest, largest)
        return far

    def rows_outside_support(self, values):
        """Boolean mask of the rows holding a value some column's likelihood cannot score (NaN aside).

        What ``check`` refuses, row by row: a value beyond the likelihood's
        ``support_bounds``, or a fraction for counts.
        """
        outside = np.zeros(values.shape[0], dtype=bool)
        entries = values.tocoo(copy=False) if sp.issparse(values) else None
        for kind, group in self._groups():
            cls = LIKELIHOODS[kind]
            low, high = cls.support
            if low == -np.inf and high == np.inf and not _counts(cls):
                continue
            if entries is not None:  # implicit zeros lie in every numeric support and are whole
                in_group = np.isin(entries.col, group)
                block, rows = entries.data[in_group], entries.row[in_group]
            else:
                block = values if len(group) == values.shape[1] else values[:, group]
                rows = None
            smallest, largest = cls.support_bounds()
            with np.errstate(invalid="ignore"):
                bad = (block < smallest) | (block > largest)
                if _counts(cls):
                    bad |= _fractional(block)
            if rows is None:
                outside |= bad.any(axis=1)
            else:
                outside[rows[bad]] = True
        return outside

    def _check_sparse(self, X, fitted):
        # One pass over the stored entries per likelihood, read in place (implicit zeros are in
        # every numeric support); a column at a time only to name the one at fault.
        entries = X.tocoo(copy=False)
        for kind, group in self._groups():
            cls = LIKELIHOODS[kind]
            in_group = np.zeros(X.shape[1], dtype=bool)
            in_group[group] = True
            data = entries.data if in_group.all() else entries.data[in_group[entries.col]]
            # Called at once: the loop's values bound as defaults only for the linter's sake.
            if _counts(cls):
                self._checked_naming_the_column(
                    lambda values, name, kind=kind: _check_whole(values, kind, None if name is None else [name],
                                                                 fitted),
                    X, data, group)
            self._checked_naming_the_column(
                lambda values, name, kind=kind, cls=cls: _check_support(values, kind, cls, name, fitted),
                X, data, group)

    def _checked_naming_the_column(self, check, X, data, group):
        """``check(values, column_name)`` of a group's stored entries (the column not known: None); where
        it refuses them, and the group is not all of X, again column by column to name the one at fault."""
        try:
            check(data, None)
        except ValueError:
            if len(self.columns) == len(group):
                raise
            for j in group:  # as a column of rows: a sparse array's column is 1-D
                check(X[:, j].toarray().reshape(-1, 1), self.columns[j].name)

    def _groups(self):
        # Computed once: a one-row call would otherwise spend more here than in the network.
        if self._likelihood_groups is None:
            groups = {}
            for j, column in enumerate(self.columns):
                groups.setdefault(column.likelihood, []).append(j)
            self._likelihood_groups = list(groups.items())
        return self._likelihood_groups

    # ------------------------------------------------------------- back

    def beyond_ranges(self, X, values, given_dtype=None):
        """Names of the numeric columns whose observed ``values`` (X's float values) leave their range at fit.

        Not where X's float32 (float16) column and the range differ in float64
        alone: the same X given so rounds its extremes past a float64 fit's;
        nor, the other way, where the column was float32 (float16) at fit.
        ``given_dtype``: an array X's dtype before it was read.
        """
        _, low, high, _ = _array_summary(values)
        dtypes = list(X.dtypes) if self.frame else [values.dtype if given_dtype is None else given_dtype] * len(self.columns)
        beyond = []
        for j, column in enumerate(self.columns):
            if column.categories is not None:
                continue
            narrow = _narrow_float(dtypes[j]) or _narrow_float(column.dtype)
            below = low[j] < column.low and not (narrow and _equal_in(narrow, low[j], column.low))
            above = high[j] > column.high and not (narrow and _equal_in(narrow, high[j], column.high))
            if below or above:
                beyond.append(column.name)
        return beyond

    def rounded_for_sample(self, values):
        """``values`` (a float64 array of the caller's own, in X's units) with each column's ``sample_places`` kept, in place."""
        for j, column in enumerate(self.columns):
            places = getattr(column, "sample_places", None)  # a Column pickled before it was kept has none
            if places is not None:
                np.round(values[:, j], places, out=values[:, j])
        return values

    def clipped(self, values):
        """``values`` (a float64 array of the caller's own) with each numeric column kept within its range at fit, in place."""
        low = np.array([c.low for c in self.columns])
        high = np.array([c.high for c in self.columns])
        return np.clip(values, low, high, out=values)

    def with_holes(self, values, rng, rates=None):
        """``values`` (the caller's own) with holes drawn in each column at its rate at fit, from ``rng``, in place.

        ``rates``: each row's own rates instead (a conditional model's, by the row's class).
        """
        rates = np.array([c.missing_rate for c in self.columns]) if rates is None else rates
        if not rates.any():
            return values
        # A block of rows at a time: the draws of one values.shape draw, in the same order,
        # without a float64 draw for every value held at once beside the output.
        for start in range(0, values.shape[0], STAT_BLOCK_ROWS):
            block = values[start : start + STAT_BLOCK_ROWS]
            block_rates = rates if rates.ndim == 1 else rates[start : start + STAT_BLOCK_ROWS]
            block[rng.random_sample(block.shape) < block_rates] = np.nan
        return values

    def restore(self, values, index=None, dtype=np.float64):
        """X-shaped output from float64 ``values`` in X's units (a category as its index).

        An array model returns an array of ``dtype``; a DataFrame model a
        DataFrame with the training columns and dtypes.
        """
        if not self.frame:
            # Clipped in place: every caller's values are its own decoded ones, and a clipped copy
            # cost a float64 X more (inverse_transform of float32 codes peaked at 5 times its output).
            return in_float_range(np.asarray(values), np.dtype(dtype), copy=False).astype(dtype, copy=False)
        index = pd.RangeIndex(values.shape[0]) if index is None else index
        data = {}
        for j, column in enumerate(self.columns):
            out = restore_column(values[:, j], column)
            if pd.api.types.is_object_dtype(column.dtype):
                # A bare object array of strings would become pandas 3's str dtype.
                out = pd.Series(out, index=index, dtype=object)
            data[column.name] = out
        # The frame takes the columns as they are: copying them would hold the output twice.
        out = pd.DataFrame(data, index=index, copy=False)
        if not self.nested_labels and isinstance(out.columns, pd.MultiIndex):
            out.columns = pd.Index([column.name for column in self.columns], tupleize_cols=False)
        return out


def _numeric_range(series, kind, judge=True):
    """A numeric column's smallest and largest observed value, as ``values`` reads it, and more.

    Also whether it takes only those two values, the likelihoods whose fit
    test (``fits_better``) it passes (none looked at unless ``judge``), the
    shares of its observed values at the smallest and at the largest, and
    how many of its observed values are exactly 0 or 1, of how many, and
    where its holes are. Infinities (and no holes) for a column of
    categories.
    """
    if kind == "category":
        return -np.inf, np.inf, False, (), (0.0, 0.0), (0, 0), None
    column = Column(series.name, "", dtype=series.dtype, kind=kind)
    values = Schema([column], frame=True)._column_values(series, column, 0)
    holes = np.isnan(values)
    observed = values[~holes]
    if not observed.size:
        return -np.inf, np.inf, False, (), (0.0, 0.0), (0, 0), holes
    low, high = float(observed.min()), float(observed.max())
    better = tuple(name for name, cls in LIKELIHOODS.items()
                   if judge and kind in cls.auto_dtypes_if_better and cls.fits_better(observed))
    at_low, at_high = observed == low, observed == high
    return (low, high, bool(np.all(at_low | at_high)), better,
            (float(at_low.mean()), float(at_high.mean())) if low < high else (0.0, 0.0),
            (int(((observed == 0) | (observed == 1)).sum()), observed.size), holes)


def _holes(frame):
    """Each entry of a frame that is a hole as its column's values read it: NaN too where an Arrow column holds one."""
    holes = frame.isna().to_numpy().copy()  # pandas may hand out a read-only view
    for j, (_, series) in enumerate(frame.items()):
        if pd.api.types.is_float_dtype(series.dtype) and not isinstance(series.dtype, np.dtype):
            holes[:, j] |= np.isnan(series.to_numpy(dtype=np.float64, na_value=np.nan))
    return holes


def _unobserved_columns(X):
    """Positions of X's columns without an observed value (NaN or, in a frame, missing throughout)."""
    if isinstance(X, pd.DataFrame):
        return np.flatnonzero(_holes(X).all(axis=0)).tolist()
    if sp.issparse(X):
        coo = X.tocoo()
        holes = np.bincount(coo.col[np.isnan(coo.data)], minlength=X.shape[1])
        return np.flatnonzero(holes == X.shape[0]).tolist()
    observed = np.zeros(X.shape[1], dtype=bool)
    for block in row_blocks(X):  # a memmap a block at a time
        observed |= ~np.isnan(np.asarray(block)).all(axis=0)
    return np.flatnonzero(~observed).tolist()


def _array_summary(X):
    """Holes, smallest and largest observed value of each column of an array or sparse matrix, read in blocks.

    Also how many observed values of each column are exactly 0 or 1 (counted only while every value
    so far lies in [0, 1], where "auto" reads them).
    """
    n_columns = X.shape[1]
    holes, low, high = np.zeros(n_columns), np.full(n_columns, np.inf), np.full(n_columns, -np.inf)
    if sp.issparse(X):
        coo = X.tocoo()
        np.add.at(holes, coo.col[np.isnan(coo.data)], 1)
        stored = ~np.isnan(coo.data)
        np.minimum.at(low, coo.col[stored], coo.data[stored])
        np.maximum.at(high, coo.col[stored], coo.data[stored])
        implicit = np.bincount(coo.col, minlength=n_columns) < X.shape[0]  # columns with zeros not stored
        low[implicit], high[implicit] = np.minimum(low[implicit], 0.0), np.maximum(high[implicit], 0.0)
        implicit_zeros = X.shape[0] - np.bincount(coo.col, minlength=n_columns)
        at_bounds = implicit_zeros + np.bincount(coo.col, weights=(coo.data == 0) | (coo.data == 1), minlength=n_columns)
        return holes, low, high, at_bounds
    at_bounds = np.zeros(n_columns)
    for block in row_blocks(X):
        block = np.asarray(block)
        holes += np.isnan(block).sum(axis=0)
        with np.errstate(invalid="ignore"):
            low = np.fmin(low, np.nanmin(block, axis=0, initial=np.inf) if block.size else low)
            high = np.fmax(high, np.nanmax(block, axis=0, initial=-np.inf) if block.size else high)
        if low.min(initial=0.0) >= 0.0 and high.max(initial=1.0) <= 1.0:  # counted only where it can matter
            at_bounds += np.count_nonzero(block == 0, axis=0) + np.count_nonzero(block == 1, axis=0)
    return holes, low, high, at_bounds


def _unhashable_values(values, name):
    """The error for a column of lists, dicts or arrays (a JSON column of tags), which no likelihood takes."""
    kinds = sorted({type(v).__name__ for v in values if isinstance(v, (list, dict, set, np.ndarray))})
    return ValueError(
        f"Column {name!r} holds {' and '.join(kinds) or 'unhashable'} values, which skvae cannot model: "
        "it takes numbers, booleans, dates, durations, categories and strings. Convert the column "
        "(e.g. one column per tag, or a string) or drop it."
    )


def _tuples_error(name, what, why):
    """The error for a column of tuples that a fitted model could not give back (``why``)."""
    return ValueError(
        f"Column {name!r} {what}, which skvae could fit but not {why}. "
        f"Make them strings (X[{name!r}].astype(str)) or split them into columns."
    )


def _row_named(frame, first_row, row):
    """How a message names row ``row`` of a chunk that starts at X's row ``first_row``.

    Its position in X, and its index label where that differs (a test fold of
    a cross-validation keeps the labels of the rows it took).
    """
    position = first_row + row
    if not isinstance(frame, (pd.Series, pd.DataFrame)):
        return f"row {position}"
    label = frame.index[row]
    label = plain_value(label)  # 11, not np.int64(11)
    try:
        same = bool(label == position)
    except (TypeError, ValueError):  # pd.NA, a tuple of a MultiIndex
        same = False
    return f"row {position}" if same else f"row {position}, index label {label!r}"


def _categories(series):
    if isinstance(series.dtype, pd.CategoricalDtype):
        categories = series.cat.categories.to_numpy()
        # Tuples alone: fitted, but a model that kept them could not be loaded (pandas rebuilds
        # them as a MultiIndex).
        rebuilt_as_tuples = isinstance(pd.Index(categories.tolist()), pd.MultiIndex)
        if rebuilt_as_tuples:
            raise _tuples_error(
                series.name, f"is a Categorical whose categories are all tuples ({categories[0]!r}, ...)",
                "load again: pandas rebuilds them as a MultiIndex",
            )
        return categories
    try:
        present = series.dropna().unique()
    except TypeError:
        raise _unhashable_values(series, series.name) from None
    present = present.tolist()
    if present and all(isinstance(v, (bool, np.bool_)) for v in present):
        # A flag's two levels are known whatever rows a fit holds: a cross-validation fold of True
        # alone refused the False of another as a category unseen at fit.
        present = [False, True]
    try:
        ordered = sorted(present, key=lambda v: (str(type(v)), v))
    except TypeError:  # tuples of values that do not compare, (1, "a") and ("b", 2, 3): by their text
        ordered = sorted(present, key=lambda v: (str(type(v)), repr(v)))
    values = np.asarray(ordered, dtype=object)
    if values.ndim > 1:
        # Tuples of one length: a 2-D array of categories, which no output could be restored from.
        example = next(value for value in present if isinstance(value, tuple))
        size = f"{len(example)} value{'' if len(example) == 1 else 's'}"
        raise _tuples_error(
            series.name, f"holds tuples of {size} each ({example!r}) as its categories",
            "give back or load: NumPy and pandas read them as rows of a table",
        )
    if pd.api.types.is_numeric_dtype(series.dtype) or pd.api.types.is_bool_dtype(series.dtype):
        return values.astype(series.dtype.numpy_dtype if hasattr(series.dtype, "numpy_dtype") else series.dtype)
    return values


def _narrow_float(dtype):
    """float16 or float32 where a column's dtype holds them (NumPy's, pandas' Float32, pyarrow's); else None."""
    try:
        kind = np.dtype(getattr(dtype, "numpy_dtype", dtype))
    except TypeError:
        return None
    return kind.type if kind in (np.float16, np.float32) else None


def _equal_in(narrow, value, bound):
    """Whether ``bound`` rounds to ``value`` in the narrow float: the same extreme, given in it."""
    with np.errstate(over="ignore"):
        return narrow(bound) == narrow(value)


def infinite_value_error(where):
    """The error for an infinity in X, ``where`` naming it: no rescaling makes one finite."""
    return ValueError(f"{where}: skvae models finite values. Make it a hole (NaN), which the model takes, or a "
                      "finite value, or drop the row.")


def _refuse_infinities(X, low, high):
    """Raise, naming the first, where a column of an array holds an infinity (``assume_finite`` lets one through).

    Its statistics would otherwise raise first, with advice to rescale the column.
    """
    infinite = np.flatnonzero(np.isinf(low) & (low < 0) | np.isinf(high) & (high > 0))
    if not infinite.size:
        return
    column = int(infinite[0])
    values = X[:, [column]]
    values = np.asarray(values.toarray() if sp.issparse(values) else values).ravel()
    row = int(np.flatnonzero(np.isinf(values))[0])
    raise infinite_value_error(f"X[{row}, {column}] = {values[row]} is infinite")


def _nanmin_nanmax(block):
    # A plain view: np.nanmin copies any ndarray subclass (a memmap of X, say) whole.
    block = np.asarray(block)
    if block.size == 0:
        return np.inf, -np.inf
    # fmin and fmax skip NaN as nanmin and nanmax do, without their warning for a block of holes
    # alone (one record holding None), which gives NaN.
    return np.fmin.reduce(block, axis=None), np.fmax.reduce(block, axis=None)


def _real_valued(column):
    """Whether a column's likelihood models real values on an unbounded range (not a probability, count or category)."""
    cls = LIKELIHOODS[column.likelihood]
    return not cls.discrete and not cls.takes_categories and cls.support[1] == np.inf


def _counts(cls):
    """Whether a likelihood scores whole numbers (a count's; a category's index is one anyway)."""
    return cls.discrete and not cls.takes_categories


def _where_and_alternative(column):
    """A refused column's name in messages, and the Gaussian likelihood for it (None: all of X)."""
    if column is None:
        return "X", 'likelihood="gaussian"'
    return f"column {column!r}", f'likelihood={{{column!r}: "gaussian"}}'


def _fractional(values):
    """Which entries are finite and not whole numbers."""
    return np.isfinite(values) & (values != np.floor(values))


def _check_whole(values, kind, names, fitted):
    """Raise unless every finite entry is a whole number, and (at fit) within float32's range, which
    counts are read in; ``names``: the block's columns (None: unnamed). Negative counts are left to
    the support's check.

    A block of rows at a time: X may be a memmap larger than memory.
    """
    counts = np.zeros(values.shape[1:], dtype=np.int64)  # per column; a sparse matrix's stored entries: one
    largest = np.zeros(values.shape[1:])
    first = None
    for block in row_blocks(values):
        fractional = _fractional(block)
        counts += fractional.sum(axis=0)
        if first is None and fractional.any():
            first = block[fractional][0]
        largest = np.maximum(largest, np.where(np.isfinite(block), block, 0.0).max(axis=0, initial=0.0))
    if (largest > FLOAT32_MAX).any() and not fitted:
        # Read as float32 targets they were infinite: the first score was, and the error blamed the networks.
        at = np.unravel_index(np.argmax(largest), largest.shape)
        where, other = _where_and_alternative(None if names is None else names[at[0]])
        raise ValueError(
            f'likelihood="{kind}" reads counts in float32, whose largest value is {FLOAT32_MAX:.3g}, but {where} '
            f'holds {largest[at]:.3g}. Use {other} (or "lognormal"), which reads values on a scale of their own.'
        )
    if first is None:
        return
    column = None if names is None else names[int(np.argmax(counts > 0))]
    where, other = _where_and_alternative(column)
    lowest = float(np.fmin.reduce([np.fmin.reduce(block, axis=None) for block in row_blocks(values)]))
    if fitted:
        advice = f"The model was fitted with it (see column_likelihoods_); to take such values, refit with {other}."
    elif lowest < 0:  # rounding would not make them counts
        advice = f"Counts are not negative either, and {where} holds {lowest:g}: use {other}."
    else:
        advice = f"Round them (np.rint) if they are counts; if not, use {other} (or \"lognormal\")."
    raise ValueError(
        f'likelihood="{kind}" scores whole counts, but {where} holds {first:g} '
        f"({int(counts.sum())} values are not whole numbers). {advice}"
    )


def _check_support(values, kind, cls, column, fitted):
    low, high = cls.support
    smallest, largest = _nanmin_nanmax(values)
    if not cls.in_support(smallest, largest):
        where, other = _where_and_alternative(column)
        if fitted:
            # The user may never have named it: "auto" chose it from the training values' range, and
            # in a cross-validation each fold from its own (GridSearchCV then scored NaN, silently).
            advice = (f"The model was fitted with it (see column_likelihoods_), so it cannot score "
                      f"these values; to take them, refit with {other}. {cls.fitted_support_hint} "
                      'Where likelihood="auto" chose it, it chose from the training rows alone: in a '
                      "cross-validation each fold chooses its own, so name the column's likelihood to "
                      "score every fold alike.").replace("  ", " ")
        else:
            advice = cls.support_hint if column is None else f"{cls.support_hint} For that column alone: {other}."
        raise ValueError(
            f'likelihood="{kind}" needs {where} in [{low:g}, {high:g}]; got min={_shown(smallest, low)}, '
            f"max={_shown(largest, high)}. {advice}"
        )


def _shown(value, bound):
    """``value`` to three digits, or to all it needs where three would round it onto ``bound``."""
    short = f"{value:.3g}"
    return repr(float(value)) if float(short) == bound and value != bound else short


def plain_value(value):
    """A numpy scalar as the Python or pandas value it holds, as pandas gives a column's values (its repr is the value's)."""
    if isinstance(value, np.datetime64):
        return pd.Timestamp(value)  # item() of nanoseconds is a bare integer
    if isinstance(value, np.timedelta64):
        return pd.Timedelta(value)
    return value.item() if isinstance(value, np.generic) else value
