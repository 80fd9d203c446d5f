"""Synthetic tables: skvae's ``sample()`` against SDV's GaussianCopula and TVAE, scored by sdmetrics.

Four real mixed-type tables that ship offline (``benchmarks/datasets.py``,
tag ``synthesis``: categories, integers, floats and missing values):
``penguins`` (344 rows), ``hitters`` (322), ``weather`` (26,115) and
``flights`` (336,776; a stratified subsample of ``--max-rows``, 60,000 by
default). Each table is the data set's ``X`` with its target as one more
column, split 80/20 (stratified on the target). Every synthesizer fits the
training rows as they are (holes included) and draws as many rows as it
saw.

Methods:

* ``skvae``: ``VAETransformer()`` with its defaults on the raw DataFrame,
  two rows: ``sample(n, from_likelihood=False)`` (the decoder's mean per
  drawn code) and ``from_likelihood=True`` (x drawn from p(x | z), the
  default since this benchmark measured it); one fit serves both;
* ``skvae, latent 8, (256, 128)``: the same with ``latent_dim=8,
  hidden_layer_sizes=(256, 128)``, the best of seven settings tried on
  penguins and hitters (chosen on these very scores, so flattered by the
  choice); ``--skvae-params JSON`` and ``--label`` replace it, ``--skvae-params
  none`` drops it;
* ``GaussianCopula`` and ``TVAE``: SDV's ``GaussianCopulaSynthesizer`` and
  ``TVAESynthesizer`` with their defaults (TVAE: ``--tvae-epochs``, 300 as
  SDV's default). They get the same column types the scores use
  (categories as ``object``, which SDV's TVAE requires, a missing category
  as the string ``__missing__`` and back, which rdt 1.19 needs under pandas
  3; numbers as they are). Optional: without SDV their rows are skipped
  with a note.

Scores, on each synthetic table against the real training rows:

* sdmetrics' Quality Report: overall, Column Shapes (KSComplement on
  numbers, TVComplement on categories; both drop missing values) and Column
  Pair Trends (CorrelationSimilarity on two numbers, ContingencySimilarity
  otherwise);
* train on synthetic, test on real: a ``HistGradientBoostingClassifier``
  (categories natively, no early stopping) fitted on the synthetic rows
  predicts the real test rows' target (accuracy), against the same fitted on
  the real training rows;
* missing values (share of cells, real and synthetic), and the share of
  synthetic numbers outside the real column's [min, max];
* fit and sample seconds (``time.perf_counter``), and memory: each
  synthesizer runs in a fresh Python process, which reports its peak
  resident set (``resource.getrusage(RUSAGE_SELF).ru_maxrss``: imports,
  the training rows, fit and sample) and its growth over the peak reached
  before the fit (the fit and the sampling themselves).

Conditional generation: rows with the target at one value (the rarest
class that holds at least 5% of the training rows). skvae fits
``ConditionalVAETransformer`` with the target as ``y`` and calls
``sample(n, y=value)``; SDV's synthesizers (the unconditional fits above)
call ``sample_from_conditions``, which rejects rows that miss the
condition. Scored: rows returned, share matching the condition (skvae's
by construction: its rows get the value written in), and the
Quality Report of the other columns against the real training rows of
that class.

Every process uses ``--threads`` threads (1 by default: torch, OpenMP and
BLAS), recorded with the results. ``--seed`` (0) seeds the subsample, the
split, skvae's ``random_state`` and torch's and numpy's global generators in
the SDV processes (SDV's synthesizers take no seed); run it with other seeds
to see the spread: on the small tables one test row moves an accuracy by
1.5 points (hitters) or 1.4 (penguins).

    OMP_NUM_THREADS=1 python benchmarks/synthesis.py                      # the full run, 52 minutes (*)
    OMP_NUM_THREADS=1 python benchmarks/synthesis.py --tables penguins hitters
    python benchmarks/synthesis.py --skvae-params '{"latent_dim": 8}' --label "skvae, latent 8"
    python benchmarks/synthesis.py --quick --output /tmp/out              # a smoke run for the tests
    python benchmarks/synthesis.py --report benchmarks/results/synthesis.csv
    python benchmarks/synthesis.py --report run0/synthesis.csv run1/synthesis.csv   # several --seed runs: means

(*) Measured once (docs/synthesis.md), beside another benchmark for its first
15 minutes. Before that run it was estimated so: at one thread, TVAE
took 0.6 s an epoch on weather's 20,892 training rows (after 20 s of
preprocessing) and 1.7 s on 24,000 rows of flights (after 50 s); skvae's
default fit 37 s and 64 s there. Flights at 60,000 rows is most of the run.

SDV is found on ``sys.path`` or in ``--sdv-path`` (default
``.venv/sdv-site`` where it exists), a folder prepended to the path of the
SDV processes only; see docs/synthesis.md for why SDV is not in the
project's environment. Writes ``synthesis.csv`` (one row per table, task,
method and sample mode), ``synthesis_columns.csv`` (per column: Column
Shapes score, missing values, out-of-range share, share on the real
extremes, skew, distinct values, categories never drawn)
and ``synthesis.md`` to ``benchmarks/results/`` (or ``--output``).
"""

from __future__ import annotations

import argparse
import json
import os
import subprocess
import sys
import tempfile
import time
import warnings
from pathlib import Path

import numpy as np
import pandas as pd

HERE = Path(__file__).resolve().parent
sys.path.insert(0, str(HERE))

from datasets import load, names  # noqa: E402

SEED = 0
TEST_SIZE = 0.2
TABLES = ["penguins", "hitters", "weather", "flights"]
MAX_ROWS = 60_000  # keeps weather whole (26,115 rows); flights is subsampled
TVAE_DEFAULT_EPOCHS = 300  # SDV's default
CONDITION_SHARE = 0.05  # the condition: the rarest class with at least this share
MAX_CONDITIONAL_ROWS = 2_000
SKVAE = "skvae"
SDV_METHODS = ("GaussianCopula", "TVAE")
QUICK = dict(max_rows=200, tvae_epochs=2, max_tries=5, skvae_params={"max_iter": 2, "hidden_layer_sizes": [16]})
DEFAULT_SDV_PATH = HERE.parent / ".venv" / "sdv-site"
# The best of seven settings tried on penguins and hitters (Quality Report of
# from_likelihood=True samples); the full run adds it unless --skvae-params none.
BEST_FOUND = {"latent_dim": 8, "hidden_layer_sizes": [256, 128]}
BEST_LABEL = "skvae, latent 8, (256, 128)"
SDV_MAX_TRIES = 100  # sample_from_conditions' default max_tries_per_batch
MISSING = "__missing__"


# --------------------------------------------------------------------- data


def table(name, max_rows, seed=SEED):
    """``(train, test, target)``: the data set's X with its target as the last column, split."""
    from sklearn.model_selection import train_test_split

    data = load(name, max_rows=max_rows, random_state=seed)
    frame = data.X.copy()
    target = data.y.name
    frame[target] = data.y
    train, test = train_test_split(frame, test_size=TEST_SIZE, stratify=data.y, random_state=seed)
    return train.sort_index(), test.sort_index(), target


def kinds(frame):
    """sdmetrics/SDV sdtype of each column, from its dtype."""
    out = {}
    for column, dtype in frame.dtypes.items():
        if pd.api.types.is_bool_dtype(dtype):
            out[column] = "boolean"
        elif pd.api.types.is_datetime64_any_dtype(dtype):
            out[column] = "datetime"
        elif pd.api.types.is_numeric_dtype(dtype):
            out[column] = "numerical"
        else:
            out[column] = "categorical"
    return out


def plain(frame, column_kinds):
    """The frame as sdmetrics and SDV take it: categories as objects, numbers as floats."""
    out = {}
    for column, kind in column_kinds.items():
        values = frame[column]
        if kind == "categorical":
            values = values.astype(object).where(values.notna(), np.nan)
        elif kind == "numerical":
            values = pd.to_numeric(values, errors="coerce").astype(float)
        out[column] = values
    return pd.DataFrame(out, index=frame.index)


def condition_of(train, target):
    """The conditional task's value: the rarest class holding >= CONDITION_SHARE of the rows."""
    counts = train[target].value_counts()
    counts = counts[counts >= max(CONDITION_SHARE * len(train), 10)]
    return str(counts.index[-1]), int(counts.iloc[-1])


# ------------------------------------------------------------ child process


def run_child(spec):
    """Fit one synthesizer and sample from it; runs in a process of its own."""
    import resource

    threads = spec["threads"]
    import torch

    torch.set_num_threads(threads)
    from threadpoolctl import threadpool_limits

    threadpool_limits(limits=threads)
    warnings.simplefilter("ignore")
    # The training rows come pickled from the parent: loading flights whole here would set
    # the peak before the fit.
    out = Path(spec["folder"])
    train, target = pd.read_pickle(out / "train.pkl"), spec["target"]

    def peak_mb():
        return resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024  # KiB on Linux

    method = spec["method"]
    if method in SDV_METHODS:
        result, frames = _sdv_child(spec, train, target, peak_mb)
    else:
        result, frames = _skvae_child(spec, train, target, peak_mb)
    for key, frame in frames.items():
        frame.to_pickle(out / f"{key}.pkl")
    result["frames"] = sorted(frames)
    print(json.dumps(result))


def _skvae_child(spec, train, target, peak_mb):
    import skvae
    from skvae import ConditionalVAETransformer, VAETransformer

    seed = spec["seed"]
    params = {"random_state": seed, **spec["params"]}
    if "hidden_layer_sizes" in params:
        params["hidden_layer_sizes"] = tuple(params["hidden_layer_sizes"])
    n, value, n_cond = spec["n_samples"], spec["value"], spec["n_conditional"]
    before = peak_mb()
    start = time.perf_counter()
    model = VAETransformer(**params).fit(train)
    result = dict(version=skvae.__version__, fit_s=time.perf_counter() - start, n_iter=int(model.n_iter_))
    frames = {}
    for variant, from_likelihood in (("mean", False), ("draw", True)):
        start = time.perf_counter()
        frames[variant] = model.sample(n, random_state=seed, from_likelihood=from_likelihood)
        result[f"sample_s_{variant}"] = time.perf_counter() - start
    result.update(peak_mb=peak_mb(), base_mb=before)

    start = time.perf_counter()
    conditional = ConditionalVAETransformer(**params).fit(train.drop(columns=target), train[target])
    result["conditional_fit_s"] = time.perf_counter() - start
    for variant, from_likelihood in (("mean", False), ("draw", True)):
        start = time.perf_counter()
        rows = conditional.sample(n_cond, y=value, random_state=seed, from_likelihood=from_likelihood)
        result[f"conditional_sample_s_{variant}"] = time.perf_counter() - start
        # skvae returns X's columns; the condition is the label it was asked for.
        rows[target] = pd.Series([value] * len(rows), index=rows.index).astype(train[target].dtype)
        frames[f"conditional_{variant}"] = rows
    return result, frames


def _sdv_child(spec, train, target, peak_mb):
    import sdv
    from sdv.metadata import Metadata
    from sdv.sampling import Condition
    from sdv.single_table import GaussianCopulaSynthesizer, TVAESynthesizer

    import torch

    # SDV's synthesizers take no seed: TVAE's training draws from torch's and numpy's
    # global generators (its sampling and GaussianCopula's are seeded by SDV itself).
    torch.manual_seed(spec["seed"])
    np.random.seed(spec["seed"])
    column_kinds = kinds(train)
    metadata = Metadata.load_from_dict(
        {"columns": {c: {"sdtype": k} for c, k in column_kinds.items()}}, single_table_name="table"
    )
    # Categories as objects (SDV's TVAE refuses the category dtype); numbers as loaded.
    # A missing category becomes the string MISSING and back: rdt 1.19's UniformEncoder
    # (GaussianCopula) gives the missing category a NaN interval under pandas 3 and fails;
    # SDV models a missing category as one more category anyway.
    categorical = [c for c, k in column_kinds.items() if k == "categorical"]
    data = train.astype({c: object for c in categorical})
    data[categorical] = data[categorical].where(data[categorical].notna(), MISSING)
    if spec["method"] == "TVAE":
        synthesizer = TVAESynthesizer(metadata, epochs=spec["epochs"])
    else:
        synthesizer = GaussianCopulaSynthesizer(metadata)
    before = peak_mb()
    start = time.perf_counter()
    synthesizer.fit(data)
    result = dict(version=sdv.__version__, fit_s=time.perf_counter() - start)
    start = time.perf_counter()
    frames = {"sample": synthesizer.sample(spec["n_samples"])}
    result.update(sample_s_sample=time.perf_counter() - start, peak_mb=peak_mb(), base_mb=before)
    condition = Condition(num_rows=spec["n_conditional"], column_values={target: spec["value"]})
    start = time.perf_counter()
    try:
        frames["conditional_sample"] = synthesizer.sample_from_conditions(
            [condition], max_tries_per_batch=spec["max_tries"])
    except Exception as error:  # SDV raises when rejection sampling finds no row at all
        result["conditional_error"] = f"{type(error).__name__}: {str(error)[:200]}"
    result["conditional_sample_s_sample"] = time.perf_counter() - start
    for frame in frames.values():
        frame[categorical] = frame[categorical].mask(frame[categorical] == MISSING)
    return result, frames


def launch(spec, sdv_path):
    """Run ``spec`` in a fresh process; return its result dict and frames (or an error)."""
    env = dict(os.environ)
    for variable in ("OMP_NUM_THREADS", "MKL_NUM_THREADS", "OPENBLAS_NUM_THREADS"):
        env[variable] = str(spec["threads"])
    if spec["method"] in SDV_METHODS and sdv_path:
        env["PYTHONPATH"] = os.pathsep.join(filter(None, [str(sdv_path), env.get("PYTHONPATH")]))
    completed = subprocess.run(
        [sys.executable, str(Path(__file__).resolve()), "--child", json.dumps(spec)],
        capture_output=True, text=True, env=env, cwd=spec["folder"],  # SDV writes temp files to cwd
    )
    if completed.returncode != 0:
        last = (completed.stderr.strip().splitlines() or [f"exit status {completed.returncode}"])[-1]
        return {"error": last[:300]}, {}
    result = json.loads(completed.stdout.strip().splitlines()[-1])
    frames = {key: pd.read_pickle(Path(spec["folder"]) / f"{key}.pkl") for key in result.pop("frames")}
    return result, frames


def sdv_version(sdv_path):
    """SDV's version on ``sys.path`` or in ``sdv_path``, found without importing it; None if absent."""
    import importlib.metadata

    for path in ([str(sdv_path)] if sdv_path else []) + [None]:
        found = list(importlib.metadata.distributions(name="sdv", **({"path": [path]} if path else {})))
        if found:
            return found[0].version
    return None


# --------------------------------------------------------------- evaluation


def quality(real, synthetic, column_kinds):
    """sdmetrics' Quality Report: ``(overall, shapes, pairs, per-column shapes)``."""
    from sdmetrics.reports.single_table import QualityReport

    metadata = {"columns": {c: {"sdtype": k} for c, k in column_kinds.items()}}
    report = QualityReport()
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        report.generate(plain(real, column_kinds), plain(synthetic, column_kinds), metadata, verbose=False)
    properties = report.get_properties().set_index("Property")["Score"]
    details = report.get_details("Column Shapes").set_index("Column")
    return report.get_score(), properties["Column Shapes"], properties["Column Pair Trends"], details


def features(frame, target, reference):
    """X for the classifier: categories with the real training categories, numbers as floats."""
    X = {}
    for column in reference.columns:
        if column == target:
            continue
        values = frame[column]
        if isinstance(reference[column].dtype, pd.CategoricalDtype):
            X[column] = pd.Categorical(values.astype(object), categories=reference[column].cat.categories)
        else:
            X[column] = pd.to_numeric(values, errors="coerce").astype(float)
    return pd.DataFrame(X, index=frame.index)


def accuracy(fit_on, train, test, target):
    """Test accuracy of HistGradientBoostingClassifier fitted on ``fit_on`` (real or synthetic)."""
    from sklearn.ensemble import HistGradientBoostingClassifier

    y = fit_on[target].astype(object)
    keep = y.notna().to_numpy()
    y_test = test[target].astype(object).to_numpy()
    if y[keep].nunique() < 2:  # a synthesizer that draws one class: predict it
        return float(np.mean(y_test == (y[keep].iloc[0] if keep.any() else None)))
    # No early stopping (on by default from 10,000 rows): its stratified validation split
    # fails on a class a synthesizer drew once, and every fit should be the same model.
    model = HistGradientBoostingClassifier(categorical_features="from_dtype", early_stopping=False,
                                           random_state=SEED)
    model.fit(features(fit_on[keep], target, train), y[keep].astype(str))
    return float(np.mean(model.predict(features(test, target, train)) == y_test.astype(str)))


def column_report(real, synthetic, column_kinds, shapes):
    """Per column: shape score, missing shares, out-of-range share, categories never drawn."""
    rows = []
    for column, kind in column_kinds.items():
        row = dict(column=column, kind=kind, missing_real=float(real[column].isna().mean()),
                   missing_synthetic=float(synthetic[column].isna().mean()))
        if column in shapes.index:
            row.update(shape_metric=shapes.loc[column, "Metric"], shape_score=float(shapes.loc[column, "Score"]))
        if kind == "numerical":
            values = pd.to_numeric(real[column], errors="coerce").astype(float).dropna()
            drawn = pd.to_numeric(synthetic[column], errors="coerce").astype(float).dropna()
            low, high = values.min(), values.max()
            row.update(
                out_of_range=float(((drawn < low) | (drawn > high)).mean()) if len(drawn) else np.nan,
                # Mass on the real extremes: clipping to the range piles it there.
                at_bounds_real=float(values.isin([low, high]).mean()),
                at_bounds_synthetic=float(drawn.isin([low, high]).mean()) if len(drawn) else np.nan,
                real_skew=float(values.skew()), real_unique=int(values.nunique()),
                synthetic_unique=int(drawn.nunique()),
            )
        else:
            seen = set(real[column].dropna().astype(str))
            drawn = set(synthetic[column].dropna().astype(str))
            row.update(real_unique=len(seen), synthetic_unique=len(drawn), categories_never_drawn=len(seen - drawn))
        rows.append(row)
    return rows


def evaluate(real, synthetic, column_kinds):
    overall, shapes, pairs, details = quality(real, synthetic, column_kinds)
    columns = column_report(real, synthetic, column_kinds, details)
    numeric = [c["out_of_range"] for c in columns if "out_of_range" in c and not np.isnan(c["out_of_range"])]
    return dict(
        quality=overall, shapes=shapes, pairs=pairs,
        missing_real=float(real.isna().to_numpy().mean()),
        missing_synthetic=float(synthetic.isna().to_numpy().mean()),
        out_of_range=float(np.mean(numeric)) if numeric else np.nan,
    ), columns


# --------------------------------------------------------------------- run


def run_table(name, args, methods, sdv_path, folder):
    train, test, target = table(name, args.max_rows, args.seed)
    column_kinds = kinds(train)
    value, n_class = condition_of(train, target)
    n_conditional = min(n_class, MAX_CONDITIONAL_ROWS)
    real_class = train[train[target].astype(str) == value]
    other_kinds = {c: k for c, k in column_kinds.items() if c != target}
    common = dict(table=name, rows=len(train) + len(test), train_rows=len(train), test_rows=len(test),
                  columns=train.shape[1], target=target, threads=args.threads, seed=args.seed)
    trtr = accuracy(train, train, test, target)
    rows, column_rows = [], []
    for method, params in methods:
        spec = dict(table=name, max_rows=args.max_rows, method=method if method in SDV_METHODS else SKVAE,
                    params=params, epochs=args.tvae_epochs, n_samples=len(train), value=value, seed=args.seed,
                    n_conditional=n_conditional, threads=args.threads,
                    max_tries=QUICK["max_tries"] if args.quick else SDV_MAX_TRIES,
                    target=target, folder=tempfile.mkdtemp(dir=folder))
        train.to_pickle(Path(spec["folder"]) / "train.pkl")
        result, frames = launch(spec, sdv_path)
        base = dict(common, method=method, params=json.dumps(params) if method not in SDV_METHODS else
                    json.dumps({"epochs": args.tvae_epochs} if method == "TVAE" else {}),
                    version=result.get("version"), fit_s=result.get("fit_s"), peak_mb=result.get("peak_mb"),
                    fit_mb=(result["peak_mb"] - result["base_mb"]) if "peak_mb" in result else np.nan,
                    n_iter=result.get("n_iter"))
        if "error" in result:
            rows.append(dict(base, task="unconditional", error=result["error"]))
            print(f"[{name}] {method}: FAILED {result['error']}", flush=True)
            continue
        for variant in ("mean", "draw", "sample"):
            if variant not in frames:
                continue
            scores, columns = evaluate(train, frames[variant], column_kinds)
            scores["tstr"] = accuracy(frames[variant], train, test, target)
            rows.append(dict(base, task="unconditional", sample=variant, n_samples=len(frames[variant]),
                             sample_s=result[f"sample_s_{variant}"], trtr=trtr, **scores))
            column_rows += [dict(table=name, method=method, sample=variant, **c) for c in columns]
            print(f"[{name}] {method} ({variant}): quality {scores['quality']:.3f} TSTR {scores['tstr']:.3f} "
                  f"(real {trtr:.3f}) fit {result['fit_s']:.1f}s", flush=True)
        for variant in ("mean", "draw", "sample"):
            key = f"conditional_{variant}"
            if f"conditional_sample_s_{variant}" not in result:
                continue
            row = dict(base, task="conditional", sample=variant, condition=f"{target} = {value}",
                       n_asked=n_conditional, fit_s=result.get("conditional_fit_s", result.get("fit_s")),
                       sample_s=result[f"conditional_sample_s_{variant}"],
                       error=result.get("conditional_error"))
            if key in frames and len(frames[key]):
                rows_out = frames[key]
                matched = rows_out[target].astype(str) == value
                overall, shapes, pairs, _ = quality(real_class.drop(columns=target),
                                                    rows_out.drop(columns=target), other_kinds)
                row.update(n_samples=len(rows_out), match=float(matched.mean()),
                           quality=overall, shapes=shapes, pairs=pairs)
            else:
                row.update(n_samples=0)
            rows.append(row)
    return rows, column_rows


def main(argv=None):
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--tables", nargs="+", choices=names("synthesis"), default=None,
                        help=f"default: {' '.join(TABLES)} (penguins with --quick)")
    parser.add_argument("--max-rows", type=int, default=None,
                        help=f"rows kept per table, a stratified subsample (default {MAX_ROWS:,}; "
                        f"{QUICK['max_rows']} with --quick)")
    parser.add_argument("--tvae-epochs", type=int, default=None,
                        help=f"TVAE's epochs (default {TVAE_DEFAULT_EPOCHS}, SDV's; 2 with --quick)")
    parser.add_argument("--methods", nargs="+", choices=[SKVAE, *SDV_METHODS], default=[SKVAE, *SDV_METHODS])
    parser.add_argument("--skvae-params", default=None,
                        help="JSON of VAETransformer parameters: adds rows named --label (default: "
                        f"{json.dumps(BEST_FOUND)}, none with --quick; 'none': no such rows)")
    parser.add_argument("--label", default=None, help=f"name of the --skvae-params rows (default {BEST_LABEL!r} "
                        "for the default parameters, else 'skvae, tuned')")
    parser.add_argument("--threads", type=int, default=1, help="threads per process (torch, OpenMP, BLAS)")
    parser.add_argument("--seed", type=int, default=SEED,
                        help="seeds the subsample, the split and every synthesizer (default %(default)s)")
    parser.add_argument("--sdv-path", type=Path, default=None,
                        help=f"folder holding SDV, prepended to the SDV processes' path "
                        f"(default {DEFAULT_SDV_PATH.relative_to(HERE.parent)} where it exists)")
    parser.add_argument("--output", type=Path, default=HERE / "results")
    parser.add_argument("--quick", action="store_true", help="tiny sizes: a smoke test, not a measurement")
    parser.add_argument("--report", type=Path, nargs="+", default=None, metavar="CSV",
                        help="print the tables and targets of synthesis.csv files (runs with other "
                        "--seed: the targets compare means over the seeds); run nothing")
    parser.add_argument("--child", help=argparse.SUPPRESS)
    args = parser.parse_args(argv)
    if args.child:
        return run_child(json.loads(args.child))
    if args.report:
        print(report(pd.concat([pd.read_csv(path) for path in args.report], ignore_index=True)))
        return None

    args.tables = args.tables or (["penguins"] if args.quick else TABLES)
    args.max_rows = args.max_rows or (QUICK["max_rows"] if args.quick else MAX_ROWS)
    args.tvae_epochs = args.tvae_epochs or (QUICK["tvae_epochs"] if args.quick else TVAE_DEFAULT_EPOCHS)
    from threadpoolctl import threadpool_limits

    threadpool_limits(limits=args.threads)
    os.environ["OMP_NUM_THREADS"] = str(args.threads)
    warnings.simplefilter("ignore")
    sdv_path = args.sdv_path or (DEFAULT_SDV_PATH if DEFAULT_SDV_PATH.is_dir() else None)

    base_params = dict(QUICK["skvae_params"]) if args.quick else {}
    methods = []
    if SKVAE in args.methods:
        methods.append((SKVAE, base_params))
    if args.skvae_params is None and not args.quick:
        args.skvae_params, args.label = json.dumps(BEST_FOUND), args.label or BEST_LABEL
    if args.skvae_params not in (None, "none"):
        methods.append((args.label or "skvae, tuned", {**base_params, **json.loads(args.skvae_params)}))
    wanted_sdv = [m for m in args.methods if m in SDV_METHODS]
    if wanted_sdv:
        version = sdv_version(sdv_path)
        if version is None:
            print(f"note: SDV is not importable (looked on sys.path and in {sdv_path}); skipping "
                  f"{', '.join(wanted_sdv)}: see docs/synthesis.md to install it")
        else:
            print(f"SDV {version}" + (f" from {sdv_path}" if sdv_path else ""))
            methods += [(m, {}) for m in wanted_sdv]

    rows, column_rows = [], []
    with tempfile.TemporaryDirectory() as folder:
        for name in args.tables:
            new, columns = run_table(name, args, methods, sdv_path, folder)
            rows += new
            column_rows += columns
    results = pd.DataFrame(rows)
    args.output.mkdir(parents=True, exist_ok=True)
    results.to_csv(args.output / "synthesis.csv", index=False)
    pd.DataFrame(column_rows).to_csv(args.output / "synthesis_columns.csv", index=False)
    text = report(results)
    (args.output / "synthesis.md").write_text(text + "\n")
    print()
    print(text)
    print(f"\nwrote {args.output / 'synthesis.csv'}, synthesis_columns.csv and synthesis.md")
    return results


# ------------------------------------------------------------------ report


def _f(value, digits=3):
    return "" if value is None or pd.isna(value) else f"{value:.{digits}f}"


def report(results):
    """The markdown tables and the targets block of a run."""
    results = results.copy()
    for column in ("sample", "error", "condition"):
        if column not in results:
            results[column] = np.nan
    unconditional = results[results["task"] == "unconditional"]
    seeds = sorted(results["seed"].unique())
    lines = [
        f"Unconditional: as many rows as the training set; scores against the real training rows "
        f"(sdmetrics Quality Report) and the real test rows (accuracy). Threads per process: "
        f"{', '.join(map(str, sorted(results['threads'].unique())))}; seed "
        f"{', '.join(map(str, sorted(results['seed'].unique())))}.",
        "",
        "| table | rows | method | sample | quality | shapes | pairs | TSTR acc (real) | missing real / synth "
        "| out of range | fit s | sample s | peak MB (fit+sample) |",
        "|---|---:|---|---|---:|---:|---:|---:|---:|---:|---:|---:|---:|",
    ]
    for r in unconditional.itertuples(index=False):
        method = f"{r.method} (seed {r.seed})" if len(seeds) > 1 else r.method
        if isinstance(r.error, str):
            lines.append(f"| {r.table} | {r.rows:,} | {method} | failed: {r.error} |" + " |" * 9)
            continue
        lines.append(
            f"| {r.table} | {r.rows:,} | {method} | {r.sample} | {_f(r.quality)} | {_f(r.shapes)} | {_f(r.pairs)} "
            f"| {_f(r.tstr)} ({_f(r.trtr)}) | {r.missing_real:.1%} / {r.missing_synthetic:.1%} "
            f"| {r.out_of_range:.1%} | {_f(r.fit_s, 1)} | {_f(r.sample_s, 2)} | {r.peak_mb:.0f} ({r.fit_mb:.0f}) |"
        )
    if len(seeds) > 1:
        lines += ["", f"Over the {len(seeds)} seeds (each its own split): mean ± standard deviation; the "
                  "targets below compare these means.", "",
                  "| table | method | sample | seeds | quality | TSTR acc | fit s |", "|---|---|---|---:|---:|---:|---:|"]
        scored = unconditional[unconditional["quality"].notna()]
        for (table, method, sample), group in scored.groupby(["table", "method", "sample"], sort=False):
            lines.append(
                f"| {table} | {method} | {sample} | {len(group)} | {_f(group['quality'].mean())} ± "
                f"{_f(group['quality'].std())} | {_f(group['tstr'].mean())} ± {_f(group['tstr'].std())} "
                f"| {_f(group['fit_s'].mean(), 1)} |"
            )
    conditional = results[results["task"] == "conditional"]
    if not conditional.empty:
        lines += [
            "",
            "Conditional: rows with the target at one value; quality of the other columns against the real "
            "training rows of that value. match: the share of rows returned that hold the value (set: skvae's "
            "sample(y=value) returns X's columns, and the value is written beside them). fit s: the conditional "
            "model's (skvae) or the unconditional one's (SDV, which reuses it).",
            "",
            "| table | condition | method | sample | rows asked | rows returned | match | quality | shapes "
            "| pairs | fit s | sample s |",
            "|---|---|---|---|---:|---:|---:|---:|---:|---:|---:|---:|",
        ]
        for r in conditional.itertuples(index=False):
            note = f" ({r.error})" if isinstance(r.error, str) else ""
            method = f"{r.method} (seed {r.seed})" if len(seeds) > 1 else r.method
            lines.append(
                f"| {r.table} | {r.condition} | {method} | {r.sample} | {r.n_asked:.0f} | {r.n_samples:.0f}{note} "
                f"| {'set' if r.method not in SDV_METHODS else _f(getattr(r, 'match', np.nan))} "
                f"| {_f(r.quality)} | {_f(r.shapes)} | {_f(r.pairs)} "
                f"| {_f(r.fit_s, 1)} | {_f(r.sample_s, 2)} |"
            )
    lines += ["", targets(results)]
    return "\n".join(lines)


def _by_table(frame, method, sample, column):
    """``column`` of one method's rows by table: the mean over the seeds run."""
    rows = frame[(frame["method"] == method) & (frame["sample"] == sample)]
    return rows.groupby("table", sort=False)[column].mean().dropna()


def targets(results):
    """The issue's targets, MET / NOT MET with the numbers, for each skvae setting."""
    ok = results[(results["task"] == "unconditional") & results["quality"].notna()]
    tables = list(dict.fromkeys(results["table"]))
    skvae_methods = [m for m in dict.fromkeys(ok["method"]) if m not in SDV_METHODS]
    lines = ["Targets (issue 21; skvae's rows named by method and sample mode: mean = from_likelihood=False; "
             "draw = from_likelihood=True, the default):"]

    def compare(number, title, column, rivals):
        present = [m for m in rivals if not _by_table(ok, m, "sample", column).empty]
        if not present:
            lines.append(f"({number}) {title}: n/a ({' and '.join(rivals)} did not run)")
            return
        for method in skvae_methods:
            for sample in ("mean", "draw"):
                ours = _by_table(ok, method, sample, column)
                theirs = {m: _by_table(ok, m, "sample", column) for m in rivals}
                pairs = [(t, m) for t in tables for m in rivals]
                scored = [(t, m) for t, m in pairs if t in ours.index and t in theirs[m].index]
                if any(ours[t] < theirs[m][t] for t, m in scored):
                    verdict = "NOT MET"
                elif len(scored) == len(pairs):
                    verdict = "MET"
                else:
                    verdict = "n/a (a run failed or was skipped)"
                detail = "; ".join(
                    f"{t}: {_f(ours.get(t)) or '-'} vs "
                    + ", ".join(f"{m} {_f(s.get(t)) or '-'}" for m, s in theirs.items())
                    for t in tables
                )
                lines.append(f"({number}) {title}, {method} ({sample}): {verdict} ({detail})")

    compare(1, "Quality Report >= GaussianCopula's and TVAE's on every table", "quality", list(SDV_METHODS))
    compare(2, "train-on-synthetic accuracy >= TVAE's on every table", "tstr", ["TVAE"])
    tvae = ok[(ok["method"] == "TVAE")]
    epochs = {json.loads(p).get("epochs") for p in tvae["params"]} if not tvae.empty else set()
    title = "skvae's default fit <= 1/5 of TVAE's default (300-epoch) fit on every table"
    if tvae.empty:
        lines.append(f"(3) {title}: n/a (TVAE did not run)")
    elif epochs != {TVAE_DEFAULT_EPOCHS}:
        lines.append(f"(3) {title}: n/a (TVAE ran {', '.join(map(str, sorted(epochs)))} epochs, not its default)")
    else:
        ours = _by_table(ok, SKVAE, "mean", "fit_s")
        theirs = _by_table(ok, "TVAE", "sample", "fit_s")
        met = all(t in ours.index and t in theirs.index and ours[t] <= theirs[t] / 5 for t in tables)
        detail = "; ".join(f"{t}: {_f(ours.get(t), 1)} s vs 1/5 x {_f(theirs.get(t), 1)} s = "
                           f"{_f(theirs.get(t, np.nan) / 5, 1)} s" for t in tables)
        lines.append(f"(3) {title}: {'MET' if met else 'NOT MET'} ({detail})")
    return "\n".join(lines)


if __name__ == "__main__":
    main()
