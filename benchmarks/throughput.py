"""Training and transform throughput of skvae against hand-written PyTorch loops and PCA.

One run, one machine, every figure side by side:

* training samples/s of ``VAETransformer.fit`` and ``AutoencoderTransformer.fit``,
  of the same models trained by the loop a tutorial teaches (``DataLoader`` over
  a ``TensorDataset``), of that loop with index slicing instead, and of
  ``PCA.fit``; also the convolutional VAE (``image_shape=(28, 28)``) against
  the same convolutional model in those loops;
* each skvae row's speed-up over its tutorial loop: runs interleaved A B A B,
  median of the per-pair ratios, so drifting machine load cancels;
* achieved GFLOP/s (2 FLOPs per multiply-add; a training step counts 3x the
  forward pass) as a share of this machine's fp32 matmul throughput (2048^3
  products), measured again before every repeat: the median of per-repeat
  shares, since a shared machine's speed drifts over minutes;
* ``transform`` of 100,000 rows, and peak memory of ``transform`` and ``fit``
  measured in fresh subprocesses;
* two levers on training speed tried against the defaults: ``torch.compile``
  of the networks, and larger minibatches (with their cost in accuracy);
* latency of small calls: ``transform`` and ``score_samples`` of 1, 10, 100
  and 10,000 rows, p50 and p99 over repeated calls, against the bare torch
  encoder (a float32 tensor in, no validation, no scaling) and
  ``PCA.transform``; and of 1, 10 and 100 rows of a mixed DataFrame
  (palmerpenguins: strings, floats, an integer, holes) against the pipeline
  a scikit-learn user puts in front of PCA there (``suite.pca_preprocessor``);
  and ``ConditionalVAETransformer.score_samples`` of 1, 10 and 100 rows
  without y (ten classes), against the same call with y and against one
  call per class summed as ``score_samples`` without y defines it.

Inputs are float64 numpy arrays, as scikit-learn users pass them, but for
that DataFrame.

    python benchmarks/throughput.py            # the full run, a few minutes
    python benchmarks/throughput.py --quick    # a smoke run for the tests
"""

import argparse
import json
import statistics
import subprocess
import sys
import time
import warnings
from pathlib import Path

import numpy as np
import pandas as pd
import torch
from scipy import ndimage
from scipy.special import logsumexp
from sklearn.datasets import load_digits
from sklearn.decomposition import PCA
from sklearn.exceptions import ConvergenceWarning
from torch import nn
from torch.nn import functional as F
from torch.utils.data import DataLoader, TensorDataset

from skvae import AutoencoderTransformer, ConditionalVAETransformer, VAETransformer

HIDDEN = (256, 256)
LATENT = 8
# The convolutional VAE: skvae's default channels for 28 x 28 images before (8, 8), kept so that runs compare.
CONV_CHANNELS = (32, 64)
CONV_HIDDEN = (128, 64)


# ---------------------------------------------------------------------- data


def digits_784(n_rows, seed=0):
    """load_digits upsampled to 28x28 (784 features in [0, 1]), with shifted copies up to n_rows."""
    images = load_digits().images / 16.0
    upsampled = np.clip(ndimage.zoom(images, (1, 3.5, 3.5), order=1), 0.0, 1.0)
    rng = np.random.RandomState(seed)
    rows = []
    while sum(len(r) for r in rows) < n_rows:
        shift = rng.randint(-2, 3, size=2)
        rows.append(np.roll(upsampled, shift, axis=(1, 2)).reshape(len(upsampled), -1))
    return np.concatenate(rows)[:n_rows].astype(np.float64)


def tabular(n_rows, n_features=50, seed=0):
    """Correlated Gaussian rows: 10 latent factors plus noise."""
    rng = np.random.RandomState(seed)
    factors = rng.normal(size=(n_rows, 10))
    return factors @ rng.normal(size=(10, n_features)) + 0.5 * rng.normal(size=(n_rows, n_features))


# -------------------------------------------------------- the tutorial's model


class TutorialVAE(nn.Module):
    """The same architecture and objective as skvae's, written as a tutorial would."""

    def __init__(self, n_features, likelihood, variational=True):
        super().__init__()
        self.variational, self.likelihood = variational, likelihood
        code = 2 * LATENT if variational else LATENT
        self.encoder = nn.Sequential(
            nn.Linear(n_features, HIDDEN[0]), nn.ReLU(),
            nn.Linear(HIDDEN[0], HIDDEN[1]), nn.ReLU(),
            nn.Linear(HIDDEN[1], code),
        )
        self.decoder = nn.Sequential(
            nn.Linear(LATENT, HIDDEN[1]), nn.ReLU(),
            nn.Linear(HIDDEN[1], HIDDEN[0]), nn.ReLU(),
            nn.Linear(HIDDEN[0], n_features),
        )
        self.log_var = nn.Parameter(torch.zeros(n_features))

    def loss(self, x):
        if self.variational:
            mu, log_var = self.encoder(x).chunk(2, dim=1)
            z = mu + torch.randn_like(mu) * torch.exp(0.5 * log_var)
            kl = 0.5 * (mu**2 + log_var.exp() - 1 - log_var).sum(1)
        else:
            z, kl = self.encoder(x), 0.0
        out = self.decoder(z)
        if self.likelihood == "bernoulli":
            nll = F.binary_cross_entropy_with_logits(out, x, reduction="none").sum(1)
        elif self.variational:
            nll = 0.5 * (np.log(2 * np.pi) + self.log_var + (x - out) ** 2 / self.log_var.exp()).sum(1)
        else:
            nll = 0.5 * ((x - out) ** 2).sum(1)
        return (nll + kl).mean()


class TutorialConvVAE(TutorialVAE):
    """skvae's default convolutional VAE for 28 x 28 images, written as a tutorial would."""

    def __init__(self, n_features, likelihood, variational=True):
        nn.Module.__init__(self)
        self.variational, self.likelihood = variational, likelihood
        (c1, c2), (h1, h2) = CONV_CHANNELS, CONV_HIDDEN
        flat = c2 * 7 * 7
        self.encoder = nn.Sequential(
            nn.Unflatten(1, (1, 28, 28)),
            nn.Conv2d(1, c1, 4, 2, 1), nn.ReLU(),
            nn.Conv2d(c1, c2, 4, 2, 1), nn.ReLU(),
            nn.Flatten(),
            nn.Linear(flat, h1), nn.ReLU(),
            nn.Linear(h1, h2), nn.ReLU(),
            nn.Linear(h2, 2 * LATENT if variational else LATENT),
        )
        self.decoder = nn.Sequential(
            nn.Linear(LATENT, h2), nn.ReLU(),
            nn.Linear(h2, h1), nn.ReLU(),
            nn.Linear(h1, flat), nn.ReLU(),
            nn.Unflatten(1, (c2, 7, 7)),
            nn.ConvTranspose2d(c2, c1, 4, 2, 1), nn.ReLU(),
            nn.ConvTranspose2d(c1, 1, 4, 2, 1),
            nn.Flatten(),
        )
        self.log_var = nn.Parameter(torch.zeros(n_features))


def tutorial_fit(X, *, likelihood, variational, batch_size, epochs, loader, conv=False):
    """Train TutorialVAE from a float64 array; ``loader`` is "dataloader" or "index"."""
    torch.manual_seed(0)
    X = torch.tensor(X, dtype=torch.float32)
    if likelihood == "gaussian":
        X = (X - X.mean(0)) / X.std(0)
    model = (TutorialConvVAE if conv else TutorialVAE)(X.shape[1], likelihood, variational)
    optimizer = torch.optim.Adam(model.parameters(), lr=1e-3)
    for _ in range(epochs):
        total = 0.0
        if loader == "dataloader":
            batches = (x for (x,) in DataLoader(TensorDataset(X), batch_size=batch_size, shuffle=True))
        else:
            order = torch.randperm(len(X))
            batches = (X[order[i : i + batch_size]] for i in range(0, len(X), batch_size))
        for x in batches:
            loss = model.loss(x)
            optimizer.zero_grad()
            loss.backward()
            optimizer.step()
            total += loss.item() * len(x)
    return total / len(X)


def skvae_fit(Estimator, X, *, likelihood, batch_size, epochs, conv=False):
    params = dict(
        hidden_layer_sizes=HIDDEN, likelihood=likelihood, batch_size=batch_size,
        max_iter=epochs, n_iter_no_change=epochs, random_state=0,
    )
    if conv:
        params.update(hidden_layer_sizes=CONV_HIDDEN, image_shape=(28, 28), conv_channels=CONV_CHANNELS)
    if Estimator is VAETransformer:
        params["kl_warmup"] = 0  # the tutorial loop has none
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", ConvergenceWarning)
        loss = Estimator(LATENT, **params).fit(X).loss_curve_[-1]
    if Estimator is VAETransformer and likelihood == "gaussian":
        # skvae reports -ELBO in the units of X; the tutorial in standardised units.
        loss -= np.log(X.std(0)).sum()
    return loss


# --------------------------------------------------------------- arithmetic


def conv_forward_macs(variational=True):
    """Multiply-adds of one 28 x 28 image through the convolutional encoder and decoder."""
    (c1, c2), (h1, h2) = CONV_CHANNELS, CONV_HIDDEN
    convolutions = 14 * 14 * c1 * 1 * 16 + 7 * 7 * c2 * c1 * 16  # kernel 4 x 4, the same both ways
    code = 2 * LATENT if variational else LATENT
    dense = [c2 * 49, h1, h2, code]
    back = [LATENT, h2, h1, c2 * 49]
    pairs = list(zip(dense[:-1], dense[1:])) + list(zip(back[:-1], back[1:]))
    return 2 * convolutions + sum(a * b for a, b in pairs)


def forward_macs(n_features, variational):
    """Multiply-adds of one row through encoder and decoder."""
    code = 2 * LATENT if variational else LATENT
    encoder = [n_features, *HIDDEN, code]
    decoder = [LATENT, *reversed(HIDDEN), n_features]
    pairs = list(zip(encoder[:-1], encoder[1:])) + list(zip(decoder[:-1], decoder[1:]))
    return sum(a * b for a, b in pairs)


def encoder_macs(n_features):
    sizes = [n_features, *HIDDEN, 2 * LATENT]
    return sum(a * b for a, b in zip(sizes[:-1], sizes[1:]))


def best_gflops(run, flops, seconds):
    """GFLOP/s of ``run()`` (``flops`` FLOPs a call): the best of repeated calls for ``seconds``, after one."""
    run()
    best, start = 0.0, time.perf_counter()
    while time.perf_counter() - start < seconds:
        tick = time.perf_counter()
        run()
        best = max(best, flops / (time.perf_counter() - tick) / 1e9)
    return best


def matmul_gflops(seconds=2.0):
    """This machine's fp32 matmul throughput: the best of repeated 2048^3 products."""
    a, b = torch.randn(2048, 2048), torch.randn(2048, 2048)
    return best_gflops(lambda: a @ b, 2 * 2048**3, seconds)


def markdown_table(frame):
    header = "| " + " | ".join(frame.columns) + " |"
    rule = "|" + "|".join("---" for _ in frame.columns) + "|"
    body = ["| " + " | ".join("" if pd.isna(v) else str(v) for v in row) + " |" for row in frame.itertuples(index=False)]
    return "\n".join([header, rule, *body])


def timed(fn):
    start = time.perf_counter()
    result = fn()
    return time.perf_counter() - start, result


# --------------------------------------------------------------- benchmarks


def training_rows(name, X, *, likelihood, batch_size, epochs, repeats, peak_seconds, conv=False):
    """Interleave each skvae fit with its tutorial loop; return table rows.

    The matmul throughput is measured again before every repeat, so each
    share compares numbers taken minutes, not hours, apart.
    """
    n_rows, n_features = X.shape
    if conv:
        contenders = {
            "VAETransformer.fit, conv": lambda: skvae_fit(VAETransformer, X, likelihood=likelihood, batch_size=batch_size, epochs=epochs, conv=True),
            "tutorial conv VAE, DataLoader": lambda: tutorial_fit(X, likelihood=likelihood, variational=True, batch_size=batch_size, epochs=epochs, loader="dataloader", conv=True),
            "tutorial conv VAE, index slicing": lambda: tutorial_fit(X, likelihood=likelihood, variational=True, batch_size=batch_size, epochs=epochs, loader="index", conv=True),
        }
        baseline_of = {
            "VAETransformer.fit, conv": "tutorial conv VAE, DataLoader",
            "tutorial conv VAE, index slicing": "tutorial conv VAE, DataLoader",
        }
        return _interleaved_rows(name, X, contenders, baseline_of, batch_size, epochs, repeats, peak_seconds,
                                 macs=lambda key: conv_forward_macs(), with_pca=False)
    contenders = {
        "VAETransformer.fit": lambda: skvae_fit(VAETransformer, X, likelihood=likelihood, batch_size=batch_size, epochs=epochs),
        "tutorial VAE, DataLoader": lambda: tutorial_fit(X, likelihood=likelihood, variational=True, batch_size=batch_size, epochs=epochs, loader="dataloader"),
        "tutorial VAE, index slicing": lambda: tutorial_fit(X, likelihood=likelihood, variational=True, batch_size=batch_size, epochs=epochs, loader="index"),
        "AutoencoderTransformer.fit": lambda: skvae_fit(AutoencoderTransformer, X, likelihood=likelihood, batch_size=batch_size, epochs=epochs),
        "tutorial AE, DataLoader": lambda: tutorial_fit(X, likelihood=likelihood, variational=False, batch_size=batch_size, epochs=epochs, loader="dataloader"),
    }
    baseline_of = {
        "VAETransformer.fit": "tutorial VAE, DataLoader",
        "tutorial VAE, index slicing": "tutorial VAE, DataLoader",
        "AutoencoderTransformer.fit": "tutorial AE, DataLoader",
    }
    return _interleaved_rows(name, X, contenders, baseline_of, batch_size, epochs, repeats, peak_seconds,
                             macs=lambda key: forward_macs(n_features, "VAE" in key))


def _interleaved_rows(name, X, contenders, baseline_of, batch_size, epochs, repeats, peak_seconds, macs,
                      with_pca=True):
    n_rows = X.shape[0]
    seconds = {key: [] for key in contenders}
    peaks, losses = [], {}
    for _ in range(repeats):
        peaks.append(matmul_gflops(peak_seconds))
        for key, run in contenders.items():
            elapsed, losses[key] = timed(run)
            seconds[key].append(elapsed)
    pca_seconds = [timed(lambda: PCA(LATENT, random_state=0).fit(X))[0] for _ in range(repeats if with_pca else 0)]

    rows = []
    for key in contenders:
        flops_per_pass = n_rows * epochs * 3 * 2 * macs(key)
        samples_per_s = n_rows * epochs / statistics.median(seconds[key])
        gflops = samples_per_s * 3 * 2 * macs(key) / 1e9
        share = statistics.median(flops_per_pass / t / 1e9 / p for t, p in zip(seconds[key], peaks))
        baseline = baseline_of.get(key)
        ratio = (
            statistics.median(b / a for a, b in zip(seconds[key], seconds[baseline]))
            if baseline else 1.0 if "DataLoader" in key else np.nan
        )
        rows.append(dict(workload=name, method=key, batch_size=batch_size, samples_per_s=samples_per_s,
                         ratio_to_dataloader=ratio, gflops=gflops, share_of_matmul=share,
                         matmul_gflops=statistics.median(peaks), final_loss=losses[key]))
    if with_pca:
        rows.append(dict(workload=name, method="PCA.fit", batch_size=np.nan,
                         samples_per_s=n_rows / statistics.median(pca_seconds),
                         ratio_to_dataloader=np.nan, gflops=np.nan, share_of_matmul=np.nan, final_loss=np.nan))
    return rows


def transform_rows(X_fit, X, repeats, peak_seconds):
    vae = skvae_model(X_fit)
    pca = PCA(LATENT, random_state=0).fit(X_fit)
    vae.transform(X[:1000])
    flops = len(X) * 2 * encoder_macs(X.shape[1])
    peaks, vae_times, pca_times = [], [], []
    for _ in range(repeats):
        peaks.append(matmul_gflops(peak_seconds))
        vae_times.append(timed(lambda: vae.transform(X))[0])
        pca_times.append(timed(lambda: pca.transform(X))[0])
    vae_seconds, pca_seconds = statistics.median(vae_times), statistics.median(pca_times)
    share = statistics.median(flops / t / 1e9 / p for t, p in zip(vae_times, peaks))
    return [
        dict(workload=f"transform {len(X)}x{X.shape[1]}", method="VAETransformer.transform",
             samples_per_s=len(X) / vae_seconds, gflops=flops / vae_seconds / 1e9,
             share_of_matmul=share, matmul_gflops=statistics.median(peaks)),
        dict(workload=f"transform {len(X)}x{X.shape[1]}", method="PCA.transform",
             samples_per_s=len(X) / pca_seconds),
    ]


def calls_only(images, X_transform, quick, repeats, peak_seconds, output):
    transform = transform_rows(images[:2000], X_transform, repeats, peak_seconds)
    latency = pd.DataFrame(latency_rows(images[:2000], X_transform, quick)
                           + conditional_latency_rows(images[:2000], quick))
    output.mkdir(parents=True, exist_ok=True)
    (output / "throughput_calls.json").write_text(json.dumps(
        {"transform": transform, "latency": latency.to_dict("records")}, indent=1, default=float))
    print(f"transform of {len(X_transform):,} rows: {transform[0]['samples_per_s']:,.0f} rows/s "
          f"({transform[0]['share_of_matmul']:.0%} of matmul throughput); PCA {transform[1]['samples_per_s']:,.0f}")
    shown = latency.pivot(index="method", columns="rows", values=["p50_ms", "p99_ms"])
    shown.columns = [f"{stat.split('_')[0]} {n:,} rows (ms)" for stat, n in shown.columns]
    print(markdown_table(shown.reset_index().round(3)))


def lever_rows(quick):
    """Two levers on CPU training speed, each against today's default, side by side.

    ``torch.compile`` of the encoder and decoder: steady-state seconds per
    epoch (a fit of 1 + k epochs minus a fit of 1, so compilation is left
    out), eager and compiled interleaved. A larger minibatch: fits with
    early stopping at batch 200 (what ``"auto"`` gives large data) and
    larger, on held-out rows: time, epochs, score and SVC accuracy, since a
    larger batch is only a lever where it costs no accuracy.
    """
    from sklearn.svm import SVC

    import skvae._base as fitting

    X = digits_784(600 if quick else 6000)
    labels = np.resize(load_digits().target, len(X))
    n_train = len(X) * 5 // 6
    build = fitting.build_model

    # --quick traces with dynamo alone: the smoke run keeps the compile path and skips
    # inductor's C++ code generation, which took 10 of its 32 seconds.
    backend = "eager" if quick else "inductor"

    def compiled_build(*args, **kwargs):
        model = build(*args, **kwargs)
        model.encoder = torch.compile(model.encoder, backend=backend)
        model.decoder = torch.compile(model.decoder, backend=backend)
        return model

    def fit_seconds(compiled, epochs):
        fitting.build_model = compiled_build if compiled else build
        try:
            return timed(lambda: skvae_fit(VAETransformer, X[:n_train], likelihood="bernoulli",
                                           batch_size=128, epochs=epochs))[0]
        finally:
            fitting.build_model = build

    k = 2 if quick else 5
    fit_seconds(True, 1)  # compiles once for this process
    per_epoch = {False: [], True: []}
    for _ in range(1 if quick else 3):
        for compiled in (False, True):
            per_epoch[compiled].append((fit_seconds(compiled, 1 + k) - fit_seconds(compiled, 1)) / k)
    rows = [dict(lever="torch.compile(encoder, decoder)", setting=name, batch_size=128,
                 seconds_per_epoch=statistics.median(per_epoch[compiled]),
                 speedup=statistics.median(e / c for e, c in zip(per_epoch[False], per_epoch[compiled])) if compiled else 1.0)
             for name, compiled in (("eager (default)", False), ("compiled", True))]

    # The smoke run's 450 training rows hold fewer than 512: its larger sizes stay below them.
    for batch_size in ((200, 300, 400) if quick else (200, 512, 1024)):
        vae = VAETransformer(LATENT, likelihood="bernoulli", batch_size=batch_size, early_stopping=True,
                             max_iter=5 if quick else 200, random_state=0)
        with warnings.catch_warnings():
            warnings.simplefilter("ignore", ConvergenceWarning)
            seconds, _ = timed(lambda: vae.fit(X[:n_train]))
        codes = vae.transform(X)
        accuracy = SVC().fit(codes[:n_train], labels[:n_train]).score(codes[n_train:], labels[n_train:])
        rows.append(dict(lever="minibatch size", setting="default" if batch_size == 200 else "larger",
                         batch_size=batch_size, fit_seconds=seconds, epochs=vae.n_iter_,
                         held_out_score=vae.score(X[n_train:]), svc_accuracy=accuracy))
    base = rows[2]["fit_seconds"]
    for row in rows[2:]:
        row["speedup"] = base / row["fit_seconds"]
    return rows


def skvae_model(X, likelihood="bernoulli"):
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", ConvergenceWarning)
        return VAETransformer(LATENT, hidden_layer_sizes=HIDDEN, likelihood=likelihood, max_iter=1, random_state=0).fit(X)


def latency_rows(X_fit, X, quick):
    """p50 and p99 milliseconds per call of each method, for several call sizes."""
    vae = skvae_model(X_fit)
    # What likelihood="auto" gives real values that are not pixels (here uniform ones, none beyond
    # 10 standard deviations): the row is standardised in float64, work the Bernoulli model skips.
    values = np.random.RandomState(0).rand(len(X_fit) + len(X), X.shape[1])
    gaussian = skvae_model(values[: len(X_fit)], likelihood="gaussian")
    pca = PCA(LATENT, random_state=0).fit(X_fit)
    model = vae.network_
    rows = []
    for n in (1, 10, 100, 10_000):
        part, other = X[:n], values[len(X_fit) : len(X_fit) + n]
        tensor = torch.tensor(part, dtype=torch.float32)
        calls = {
            "VAETransformer.transform": lambda: vae.transform(part),
            "VAETransformer.transform, Gaussian": lambda other=other: gaussian.transform(other),
            "VAETransformer.score_samples": lambda: vae.score_samples(part),
            "bare torch encoder": lambda: _bare(model, tensor),
            "PCA.transform": lambda: pca.transform(part),
        }
        rows += _latency_rows(n, calls, latency_repeats(quick, n))
    return rows


def frame_latency_rows(quick):
    """p50 and p99 ms per call on a mixed DataFrame (palmerpenguins), against the pipeline into PCA."""
    from datasets import load
    from sklearn.pipeline import make_pipeline
    from suite import pca_preprocessor

    X = load("penguins").X
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", ConvergenceWarning)
        vae = VAETransformer(random_state=0, **({"max_iter": 2} if quick else {})).fit(X)
    pca = make_pipeline(pca_preprocessor(X), PCA(2, random_state=0)).fit(X)
    calls = {
        "VAETransformer.transform, penguins DataFrame": vae.transform,
        "VAETransformer.score_samples, penguins DataFrame": vae.score_samples,
        "preprocessing + PCA.transform, penguins DataFrame": pca.transform,
    }
    rows = []
    for n in (1, 10, 100):
        part = X.iloc[:n]
        rows += _latency_rows(n, {method: lambda call=call, part=part: call(part) for method, call in calls.items()},
                              latency_repeats(quick, n))
    return rows


def conditional_latency_rows(X_fit, quick):
    """p50 and p99 ms of a conditional model's score without y (ten classes), with y, and one call per class."""
    labels = np.resize(load_digits().target, len(X_fit))
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", ConvergenceWarning)
        cvae = ConditionalVAETransformer(LATENT, hidden_layer_sizes=HIDDEN, likelihood="bernoulli", max_iter=1,
                                         random_state=0).fit(X_fit, labels)
    log_prior = np.log(cvae.class_prior_)[:, None]

    def per_class(part):  # what score_samples without y defines, a call per class
        scores = np.stack([cvae.score_samples(part, label) for label in cvae.classes_])
        return logsumexp(scores + log_prior, axis=0)

    rows = []
    for n in (1, 10, 100):
        part = X_fit[:n]
        calls = {
            "ConditionalVAETransformer.score_samples without y, 10 classes": lambda part=part: cvae.score_samples(part),
            "ConditionalVAETransformer.score_samples with y": lambda part=part, n=n: cvae.score_samples(part, labels[:n]),
            "one score_samples call per class, 10 classes": lambda part=part: per_class(part),
        }
        rows += _latency_rows(n, calls, latency_repeats(quick, n))
    return rows


def latency_repeats(quick, n_rows):
    """Timed calls of ``n_rows`` rows per method: once in a smoke run, fewer for the largest calls."""
    if quick:
        return 1
    return 30 if n_rows >= 10_000 else 300


def _latency_rows(n, calls, repeats):
    """A row of p50 and p99 ms per call of each of ``calls`` (method name -> call) on ``n`` rows."""
    rows = []
    for method, call in calls.items():
        times = _call_times(call, repeats)
        rows.append(dict(rows=n, method=method, p50_ms=1e3 * float(np.percentile(times, 50)),
                         p99_ms=1e3 * float(np.percentile(times, 99))))
    return rows


def _call_times(call, repeats):
    for _ in range(min(repeats, 20)):
        call()  # warm-up
    times = []
    for _ in range(repeats):
        start = time.perf_counter()
        call()
        times.append(time.perf_counter() - start)
    return times


def _bare(model, tensor):
    with torch.inference_mode():
        return model.latent.code(model.encode(tensor))


# -------------------------------------------------------------- peak memory

_MEMORY_PROBE = r"""
import json, sys, warnings
import numpy as np
sys.path.insert(0, {here!r})
from throughput import digits_784, skvae_model

def rss(field):
    for line in open("/proc/self/status"):
        if line.startswith(field):
            return int(line.split()[1]) * 1024

task, n_rows = sys.argv[1], int(sys.argv[2])
images = digits_784(min(n_rows, 5000))
X = np.tile(images, (n_rows // len(images) + 1, 1))[:n_rows]
model = skvae_model(X[:2000])  # loads torch's kernels and buffers before measuring
before = rss("VmRSS:")
open("/proc/self/clear_refs", "w").write("5")  # reset the high-water mark
if task == "transform":
    out = model.transform(X)
    extra = rss("VmHWM:") - before - out.nbytes
else:
    skvae_model(X)
    extra = rss("VmHWM:") - before
print(json.dumps(dict(task=task, input_bytes=X.nbytes, extra_bytes=extra)))
"""


def peak_memory(task, n_rows):
    """Peak RSS above the input (and, for transform, the output) in a fresh process."""
    code = _MEMORY_PROBE.format(here=str(Path(__file__).resolve().parent))
    result = subprocess.run([sys.executable, "-c", code, task, str(n_rows)],
                            capture_output=True, text=True, check=True)
    return json.loads(result.stdout.strip().splitlines()[-1])


# ---------------------------------------------------------------------- main


def main(argv=None):
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--quick", action="store_true", help="tiny sizes: a smoke test, not a measurement")
    parser.add_argument("--output", type=Path, default=Path(__file__).resolve().parent / "results")
    parser.add_argument("--calls-only", action="store_true",
                        help="only transform of many rows and the latency of small calls (about 80 s; "
                             "throughput_calls.json): for an A/B of evaluation against another checkout")
    args = parser.parse_args(argv)

    q = args.quick
    epochs, repeats = (1, 1) if q else (3, 5)
    images = digits_784(300 if q else 5000)
    workloads = [
        ("784 features, bernoulli", images, "bernoulli", 128, False),
        ("784 features, bernoulli", images, "bernoulli", 256, False),
        ("50 features, gaussian", tabular(1000 if q else 100_000), "gaussian", 256, False),
        ("28x28 images, conv, bernoulli", images, "bernoulli", 128, True),
    ]
    tabular_epochs = 1

    print(f"torch {torch.__version__}, {torch.get_num_threads()} threads, "
          f"CUDA available: {torch.cuda.is_available()}", flush=True)
    peak_seconds = 0.2 if q else 1.0
    peak = matmul_gflops(peak_seconds)
    print(f"fp32 matmul throughput (2048^3, best of repeats): {peak:.1f} GFLOP/s at the start; "
          "measured again before every repeat", flush=True)

    if args.calls_only:
        return calls_only(images, np.tile(images, (10 if q else 20, 1)), q, repeats, peak_seconds, args.output)

    rows = []
    for name, X, likelihood, batch_size, conv in workloads:
        n_epochs = tabular_epochs if likelihood == "gaussian" else epochs
        print(f"training: {name}, {len(X)} rows, batch {batch_size}, {n_epochs} epochs ...", flush=True)
        rows += training_rows(f"{name}, {len(X)} rows", X, likelihood=likelihood, batch_size=batch_size,
                              epochs=n_epochs, repeats=repeats, peak_seconds=peak_seconds, conv=conv)
    print("transform ...", flush=True)
    X_transform = np.tile(images, (10 if q else 20, 1))
    rows += transform_rows(images[:2000], X_transform, repeats, peak_seconds)

    table = pd.DataFrame(rows)
    print("levers: torch.compile, minibatch size ...", flush=True)
    levers = pd.DataFrame(lever_rows(q))
    print("latency of small calls ...", flush=True)
    latency = pd.DataFrame(latency_rows(images[:2000], X_transform, q) + frame_latency_rows(q)
                           + conditional_latency_rows(images[:2000], q))
    print("peak memory, in fresh processes ...", flush=True)
    memory = [peak_memory("transform", 3000 if q else 100_000), peak_memory("fit", 3000 if q else 200_000)]

    args.output.mkdir(parents=True, exist_ok=True)
    table.to_csv(args.output / "throughput.csv", index=False)
    (args.output / "throughput.json").write_text(json.dumps(
        dict(matmul_gflops=peak, rows=table.to_dict("records"), memory=memory,
             latency=latency.to_dict("records"), levers=levers.to_dict("records")), indent=1, default=float))

    shown = table.copy()
    shown["samples_per_s"] = shown["samples_per_s"].map("{:,.0f}".format)
    shown["ratio_to_dataloader"] = shown["ratio_to_dataloader"].map(lambda v: "" if pd.isna(v) else f"{v:.2f}x")
    shown["share_of_matmul"] = shown["share_of_matmul"].map(lambda v: "" if pd.isna(v) else f"{v:.0%}")
    shown["gflops"] = shown["gflops"].map(lambda v: "" if pd.isna(v) else f"{v:.1f}")
    shown["matmul_gflops"] = shown["matmul_gflops"].map(lambda v: "" if pd.isna(v) else f"{v:.0f}")
    shown["final_loss"] = shown["final_loss"].map(lambda v: "" if pd.isna(v) else f"{v:.2f}")
    shown["batch_size"] = shown["batch_size"].map(lambda v: "" if pd.isna(v) else f"{v:.0f}")
    print()
    print(markdown_table(shown))
    print()
    shown_latency = latency.pivot(index="method", columns="rows", values=["p50_ms", "p99_ms"])
    shown_latency.columns = [f"{stat.split('_')[0]} {n:,} rows (ms)" for stat, n in shown_latency.columns]
    print(markdown_table(shown_latency.reset_index().round(3)))
    print()
    print(markdown_table(levers.round(3).astype(object).where(levers.notna(), "")))
    print()
    for probe in memory:
        print(f"peak memory of {probe['task']}: input {probe['input_bytes'] / 2**20:,.0f} MiB float64, "
              f"extra {probe['extra_bytes'] / 2**20:,.0f} MiB "
              f"(one float32 copy of the input: {probe['input_bytes'] / 2 / 2**20:,.0f} MiB)")
    print(f"\nwrote {args.output / 'throughput.csv'} and throughput.json")


if __name__ == "__main__":
    main()
