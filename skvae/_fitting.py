"""What a fit needs beside its own steps: atomicity, the optimizer, seeds, and its checks of the result.

The steps of a fit are the estimator's methods (``BaseAutoencoder._fit``:
validate, build or continue, train, finish); these are the pieces they
share.
"""

import contextlib
import threading
from typing import NamedTuple

import numpy as np
import torch

from ._optimizer import Adam
from ._training import TrainingDiverged
from ._warnings import warn
from .nn.layers import all_finite

# The likelihood's parameters (log-variances) learn this much faster than
# the weights; see ``make_optimizer``.
LIKELIHOOD_LR_FACTOR = 10.0


@contextlib.contextmanager
def restored_on_error(estimator):
    """Put back every attribute of ``estimator`` if the block raises.

    Fitting builds new objects and never mutates the fitted ones in place,
    so a shallow copy of ``__dict__`` is a complete snapshot.
    """
    snapshot = estimator.__dict__.copy()
    try:
        yield
    except BaseException:
        estimator.__dict__.clear()
        estimator.__dict__.update(snapshot)
        raise


def make_optimizer(model, learning_rate, state=None):
    """Adam over the model's parameters, continuing from ``state`` when given."""
    # The likelihood's parameters are log-variances: they must travel
    # several units (variance 1 -> 0.01 is -4.6 in log space) where weights
    # move by tenths, and Adam moves any parameter by about its learning
    # rate per step. A faster rate for them keeps them in step.
    # A Python float, as save/load gives it back: 10 * np.float32(1e-3) rounds otherwise.
    learning_rate = float(learning_rate)
    likelihood = list(model.columns.parameters())
    likelihood_ids = {id(p) for p in likelihood}
    groups = [{"params": [p for p in model.parameters() if id(p) not in likelihood_ids]}]
    if likelihood:
        groups.append({"params": likelihood, "lr": LIKELIHOOD_LR_FACTOR * learning_rate})
    optimizer = Adam(groups, lr=learning_rate)
    if state is not None:
        # Adam's moment estimates carry over, the learning rates do not:
        # set_params(learning_rate_init=...) between partial_fit calls
        # takes effect.
        learning_rates = [group["lr"] for group in optimizer.param_groups]
        optimizer.load_state_dict(state)
        for group, rate in zip(optimizer.param_groups, learning_rates):
            group["lr"] = rate
    return optimizer


def derived_seed(seed):
    """Another seed, a fixed function of ``seed``, for a stream apart from the one it seeds."""
    return int(np.random.SeedSequence(seed).generate_state(1)[0] >> 1)


# Held while a fit has seeded torch's process-wide generator: fits in threads
# side by side would reseed it under each other, and restore each other's states.
_GLOBAL_RNG_LOCK = threading.RLock()


@contextlib.contextmanager
def local_global_rng(seed, device):
    """Run the block with torch's global generator (CPU, and ``device``'s) seeded, then restore it.

    User modules draw from the global generator (dropout, lazy layers);
    this keeps their draws reproducible and the caller's state untouched.
    One thread at a time runs such a block.
    """
    # resolve_device names the current device's index for device="cuda": its generator is the one drawn from.
    cuda = [device.index] if device.type == "cuda" else []
    with _GLOBAL_RNG_LOCK, torch.random.fork_rng(devices=cuda):
        torch.default_generator.manual_seed(seed)
        if cuda:
            torch.cuda.default_generators[cuda[0]].manual_seed(seed)
        yield


# Training has diverged when it leaves a model that scores this many nats
# per feature (or squared standard deviations, for an autoencoder) below the
# model it started from on the same training rows: predicting every
# feature's mean costs about one. Judged against the start, not against a
# fixed floor, because an untrained model of counts around 1e5 already
# scores a million nats per feature below zero, and has not diverged.
DIVERGED_NATS_PER_FEATURE = 1e6
# ... plus this share of the start's own size: a model of one count of 1e15
# starts near -3.6e14 nats, where float32 rounding of an unchanged model
# moves the score by more than a million nats a feature.
DIVERGED_SHARE_OF_START = 1.0
# ... or when its reconstructions of a standardised column miss the training
# rows by this many of the column's standard deviations (root mean square),
# and by this many times what they missed any column by at the start (new
# data far from the kept scaling starts far off). Predicting the column's
# mean misses by one. A score alone cannot tell: a learned noise variance grows with the
# error and keeps the density of any miss within tens of nats per feature.
# Default fits of the benchmarks' 22 real tables end at most 2 (every family
# member, 40 epochs, a censored column's miss read at its bound;
# benchmarks/divergence.py); an autoencoder at learning_rate_init=10
# returned constant rows 12 to 53 off, a VAE at 1 rows 7.5 and 9.6 off
# (two seeds of eight), which the 10 this was before let through. Also the
# most a column's learned noise (above its floor) may spread, in multiples of
# the larger of its miss and the start's worst: sound fits end at most 1.3.
DIVERGED_RECONSTRUCTION = 5.0


def _noise_beyond_misses(start, end):
    """How far each column's learned noise spread exceeds ``DIVERGED_RECONSTRUCTION`` times its misses (0 where not).

    The noise variance that fits a column best is its reconstructions'
    mean squared miss; a spread many times that, or many times a standard
    deviation, is a step that threw the variance off (learning_rate_init
    0.1 left wine's columns 10 to 1.9e4 times their variance, and samples
    at their range's bounds).
    """
    allowed = DIVERGED_RECONSTRUCTION * np.maximum(max(1.0, float(start.errors.max(initial=0.0))), end.errors)
    with np.errstate(invalid="ignore"):
        excess = np.sqrt(end.noise) / allowed
    return np.where(excess > 1.0, excess, 0.0)


# A decoder that gives at least this share of the distinct rows checked one
# output has units that no longer respond.
DEAD_SHARE = 0.5


class Health(NamedTuple):
    """What the divergence check reads of a model on training rows spread over the set.

    ``score``: the mean score; ``errors``: each standardised column's root
    mean squared reconstruction error (float64 numpy, in its standard
    deviations); ``one_output``: the largest share of the rows' distinct
    encoder inputs that the decoder gives one output (0 where no two share
    one, or where not judged: only an autoencoder's is); ``noise``: each
    standardised column's noise variance learned above its floor, in
    ``errors``'s order and its standard deviations squared (NaN where none
    is learned or the column is censored; None where not judged).
    """

    score: float
    errors: np.ndarray
    one_output: float = 0.0
    noise: np.ndarray | None = None


def check_not_diverged(model, start, end, statistics, n_features, names, iteration, continued=False):
    """Raise if training left non-finite weights or statistics, or a model far worse than its ``start``.

    ``start`` and ``end`` are the model's ``Health`` before and after
    training (``one_output`` 0 where the estimator does not take one output
    for a dead network); ``names`` are the standardised columns' names, in
    ``errors``'s order; ``continued``: whether the call continued a fitted
    network (``warm_start`` or ``partial_fit``), which keeps its shape and
    seed.
    """
    problem = None
    # Against the worst start of any column: new data far from the kept scaling in one column may
    # pull the others off for a while, on the way to fitting it.
    growth = end.errors / max(1.0, float(start.errors.max(initial=0.0)))
    if not all(all_finite(p.detach()) for p in model.parameters()):
        problem = "its weights are not finite"
    elif not all(np.all(np.isfinite(v)) for v in statistics.values() if isinstance(v, np.ndarray)):
        problem = "its statistics on the training data are not finite"
    elif not np.isfinite(end.score) or end.score < min(start.score, 0.0) - (
            DIVERGED_NATS_PER_FEATURE * n_features + DIVERGED_SHARE_OF_START * abs(start.score)):
        problem = f"it scores {end.score:.3g} on its own training rows, against {start.score:.3g} before training"
    elif growth.size and (not np.all(np.isfinite(end.errors)) or growth.max() > DIVERGED_RECONSTRUCTION):
        j = int(np.argmax(np.where(np.isfinite(end.errors), growth, np.inf)))
        problem = (f"its reconstructions of its own training rows miss column {names[j]!r} by "
                   f"{end.errors[j]:.3g} standard deviations (root mean square), against "
                   f"{start.errors[j]:.3g} before training")
    elif growth.size and end.noise is not None and np.any(excess := _noise_beyond_misses(start, end)):
        j = int(np.argmax(excess))
        problem = (f"it puts noise of {np.sqrt(end.noise[j]):.3g} standard deviations on column {names[j]!r}, "
                   f"whose reconstructions miss by {end.errors[j]:.3g}: rows drawn from it, and its scores, "
                   "would be that noise")
    if problem is not None:
        raise TrainingDiverged(f"Training diverged at iteration {iteration}: after its last step {problem}.")
    # Whatever the start: a narrow ReLU network may give half its rows one output from its
    # initialisation (7 of 20 seeds with two units) and every row after training, or every row
    # from the start, which no step revives. Its units dead for most rows, it is a model of about
    # the columns' means, whose errors, about one standard deviation, pass the test above.
    # Warned of, not refused: a tiny network on sparse rows, fitted by scikit-learn's own checks,
    # died in some runs and not in others.
    if end.one_output >= DEAD_SHARE:
        # As dead before any step of a new network (too narrow for its initialisation): no learning
        # rate helps. A continued one's start is the last call's end, which says neither way.
        other = "another random_state, or give the network more units"
        if continued:
            cause, advice = "they do not respond now", ("Fit afresh (warm_start=False) with another random_state "
                                                        "or more units, and a lower learning_rate_init (tenfold, "
                                                        "say) if a larger one killed them")
        elif start.one_output >= DEAD_SHARE and end.one_output <= start.one_output:
            cause, advice = "they never responded, from the initialisation", f"Try {other}"
        else:
            cause, advice = "they no longer respond", f"Lower learning_rate_init (tenfold, say), or try {other}"
        warn(
            f"Training ended at iteration {iteration} with a decoder that gives most training rows the same "
            f"output, though their values differ: its units do not respond to their input ({cause}), and the "
            f"model holds little more than the columns' means. {advice} (a ReLU no input turns on learns nothing).",
            UserWarning,
        )


# Standardised by the kept scaling, a column of new data whose root mean
# square exceeds this many standard deviations lies outside what the model
# was fitted on: a drifted mean, or a scale from an unrepresentative first
# block. Columns are judged one by one from this many rows, and all together
# below it, where a few rows of one column say little.
DRIFT_RMS = 3.0
DRIFT_ROWS = 32
# Each value counts at most this many standard deviations: one value far out is an outlier, not
# a drift (one value 43 standard deviations out, in a stationary stream of a heavy-tailed column
# read as Gaussian, lifted a 200-row block's root mean square over DRIFT_RMS), while a block
# whose values all moved still counts its whole shift up to here.
DRIFT_CLIP = 10.0
# A later value this many standard deviations out (in the kept scaling) is
# what a float32 loss that overflows is blamed on (it trained at 1e17 and
# overflowed at 1e18-1e19 in a check); a fresh fit's own scaling keeps every
# value within sqrt(n_samples) of them.
OVERFLOW_DEVIATIONS = 1e12


def drift_rms(squares, counts, n_rows):
    """Root mean square of each column's standardised values from their sums of squares and counts.

    Each column's own from ``DRIFT_ROWS`` rows; below that, all columns'
    together for each, as a few rows of one column say little.
    """
    if n_rows >= DRIFT_ROWS:
        return np.sqrt(squares / np.maximum(counts, 1))
    return np.full(len(squares), np.sqrt(squares.sum() / max(counts.sum(), 1)))


def warn_of_drift(call, data, scaling, where):
    """Warn that a later call's ``data`` ("X", "y") lie far outside the ``scaling`` the first fit fixed.

    ``where``: which column, or which columns together, and its verb. The
    same words for every call of a drifting stream, so that Python shows
    them once at the user's line (figures that changed each call printed 26
    copies over 30 blocks). Scaling the data up front is no remedy: the
    model standardises by the first call's rows, whatever their units.
    """
    warn(
        f"{call}: {data} lies far outside the {scaling} fixed by the first fit: {where} a root "
        f"mean square over {DRIFT_RMS:g} standard deviations after standardising by it. The scaling is "
        f"not updated after the first call, and no scaling of {data} changes that: give the first call rows "
        "that represent the data (shuffle the rows of the stream, or start with fit on rows drawn "
        "across it).",
        UserWarning,
    )


def check_later_scaling(rows, columns, names, call):
    """Warn when later data are far outside the input scaling kept from the first fit.

    ``rows`` is the training row source; ``columns`` the codec, whose
    standardised targets (Gaussian and log-normal columns) are judged.
    Returns the first value beyond ``OVERFLOW_DEVIATIONS`` as ``(row,
    column name, deviation)``, or None: what to blame if training then
    overflows.
    """
    positions = columns.standardised_targets()
    far = None
    if not len(positions) or len(rows) == 0:
        return far
    squares = torch.zeros(len(positions), dtype=torch.float64)
    counts = torch.zeros(len(positions), dtype=torch.float64)
    column_names = [names[j] for j in columns.standardised_columns()]
    # A column held constant at fit has no scale to be far from: a later call releases it.
    judged = ~torch.as_tensor(columns.pinned_targets(), dtype=torch.bool)
    first_row = 0
    for batch in rows.blocks():
        values = batch.scored[:, positions].double().cpu()
        observed = torch.ones_like(values) if batch.mask is None else batch.mask[:, positions].double().cpu()
        values = values * observed
        deviations = values.abs() * judged
        if far is None and float(deviations.max()) > OVERFLOW_DEVIATIONS:
            row, column = (int(i) for i in torch.nonzero(deviations > OVERFLOW_DEVIATIONS)[0])
            far = (first_row + row, column_names[column], float(deviations[row, column]))
        squares += (values.clamp(-DRIFT_CLIP, DRIFT_CLIP) ** 2).sum(0)
        counts += observed.sum(0)
        first_row += len(values)
    rms = drift_rms(squares.numpy(), counts.numpy(), len(rows))
    worst = int(rms.argmax())
    if rms[worst] <= DRIFT_RMS:
        return far
    where = (f"column {column_names[worst]!r} has" if len(rows) >= DRIFT_ROWS
             else f"the standardised columns together (a block of under {DRIFT_ROWS} rows) have")
    warn_of_drift(call, "X", "input scaling", where)
    return far
