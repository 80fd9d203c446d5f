"""The minibatch training loop and MLPRegressor's stopping rule.

Nothing here knows which model is trained: the caller passes a ``batch_loss``
closure. The loop is written for throughput on small networks, where Python
overhead per batch matters as much as the matrix products: rows are gathered
from one float32 tensor with ``index_select`` (no DataLoader, no per-row
collation), and the running loss stays on the device so nothing synchronises
until the end of an epoch.
"""

import math
from dataclasses import dataclass, field, replace

import numpy as np
import torch

from ._progress import Progress
from ._warnings import warn

# What to do about a fit that diverged (here and in skvae._fitting's check of its result).
DIVERGENCE_ADVICE = ("Lower learning_rate_init (tenfold, say): the model standardises its inputs itself, "
                     "so scaling X does not help. The model was left as it was before this call.")


class TrainingDiverged(ValueError):
    """Training diverged (a loss or a finished model out of bounds); ``finding`` says so without the advice.

    ``plain_advice``: the advice in the estimator's own parameter names, which ``routed`` renames.
    """

    def __init__(self, finding, advice=DIVERGENCE_ADVICE, plain_advice=None):
        super().__init__(f"{finding} {advice}")
        self.finding, self.advice = finding, advice
        self.plain_advice = advice if plain_advice is None else plain_advice

    def __reduce__(self):
        # Unpickled (a joblib worker's error) from its parts, not from its message: the advice once.
        return type(self), (self.finding, self.advice, self.plain_advice)

    def routed(self, names):
        """The same finding, advised in the names a meta-estimator's set_params takes (any of ``names``).

        Built from the plain advice, not this error's, which a nested meta-estimator has routed already.
        """
        named = names[0] if len(names) == 1 else f"the diverged step's learning rate ({' or '.join(names)})"
        return type(self)(self.finding, self.plain_advice.replace("learning_rate_init", named), self.plain_advice)


@dataclass
class History:
    """What the stopping rule remembers across epochs and across fit calls."""

    loss_curve: list = field(default_factory=list)
    validation_scores: list = field(default_factory=list)
    best_loss: float = math.inf
    best_validation_score: float = -math.inf
    no_improvement_count: int = 0
    # The stopping rule judges these moving averages, not single epochs.
    smoothed_loss: float | None = None
    best_smoothed_loss: float = math.inf
    smoothed_validation_score: float | None = None
    best_smoothed_validation_score: float = -math.inf

    def copy(self):
        """A copy that later epochs leave alone (the lists copied)."""
        return replace(self, loss_curve=list(self.loss_curve), validation_scores=list(self.validation_scores))

    def restart_validation(self):
        """Forget the stopping rule's count and the validation record: a new ``fit`` call."""
        self.no_improvement_count = 0
        self.validation_scores = []
        self.best_validation_score = -math.inf
        self.smoothed_validation_score = None
        self.best_smoothed_validation_score = -math.inf


def _moving_average(average, value, n_iter_no_change):
    """An exponential moving average with the span of ``n_iter_no_change`` epochs."""
    if average is None:
        return value
    return average + 2.0 / (n_iter_no_change + 1) * (value - average)


class _Tensor:
    """A tensor as a row source: its rows, gathered."""

    def __init__(self, tensor):
        self.tensor, self.device = tensor, tensor.device

    def __len__(self):
        return self.tensor.shape[0]

    def take(self, index):
        return self.tensor[index] if isinstance(index, slice) else self.tensor.index_select(0, index)


def as_source(X):
    """A row source for ``X``: a tensor's rows, or X itself (``skvae._sources``)."""
    return _Tensor(X) if isinstance(X, torch.Tensor) else X


def batch_size_for(batch_size, n_samples, warn_if_clipped=True):
    """The minibatch size for ``n_samples`` training rows; ``"auto"`` is ``n_samples // 10`` in [16, 200]."""
    if batch_size == "auto":
        # MLP's min(200, n_samples) leaves a small data set one or two
        # steps per epoch: too few to train, and too few for a per-epoch
        # stopping rule to tell progress from noise.
        return min(n_samples, max(16, min(200, n_samples // 10)))
    if batch_size > n_samples and warn_if_clipped:
        warn(
            f"batch_size={batch_size} is larger than the {n_samples} training "
            "samples; it is clipped to that.",
            UserWarning,
        )
    return min(batch_size, n_samples)


def training_weights(weights, training=None, validation=None, early_stopping=True):
    """The rows' ``sample_weight`` scaled to a mean of 1 over the training rows (``skvae.nn.layers.row_mean``).

    ``training`` and ``validation``: early stopping's split (None: every row
    trains). A part whose rows all weigh 0 is an error: training would
    learn nothing, and the held-out score would be no mean.
    """
    if weights is None:
        return None
    trained = weights if training is None else weights[training]
    if not trained.any():
        raise ValueError(
            f"sample_weight is 0 on every one of the {len(trained)} training rows (early_stopping="
            f"{early_stopping!r} holds out the others): there is nothing to learn from. Give some of them "
            "weight, pass another random_state, or set early_stopping=False."
        )
    if validation is not None and not weights[validation].any():
        raise ValueError(
            f"sample_weight is 0 on every one of the {len(validation)} rows that early_stopping="
            f"{early_stopping!r} holds out: their score has no weighted mean to judge epochs by. Give "
            "some of them weight, pass another random_state, or set early_stopping=False."
        )
    # In units of the largest first: a mean of weights near float64's largest overflowed to inf,
    # which made every weight 0.
    largest = weights.max()
    return (weights / largest) / (trained / largest).mean()


def validation_split(n_samples, validation_fraction, rng, labels=None, early_stopping=True):
    """Sorted training and validation row indices for early stopping, drawn from ``rng``.

    ``labels``: a conditional model's class of each row. A class whose rows
    were all drawn for validation gives its first one back to training:
    the network would never have learnt it, yet ``sample`` draws it at its
    prior. (``MLPClassifier`` stratifies its split; moving rows keeps every
    split that needs no change as it was drawn.) ``early_stopping``: the
    parameter as set, which errors name.
    """
    n_validation = int(round(validation_fraction * n_samples))
    if n_validation < 1 or n_validation >= n_samples:
        raise ValueError(
            f"early_stopping={early_stopping!r} holds out validation_fraction={validation_fraction} "
            f"of the {n_samples} samples, which leaves {n_validation} validation and "
            f"{n_samples - n_validation} training samples; both need at least 1. "
            "Change validation_fraction, pass more samples, or set early_stopping=False."
        )
    order = rng.permutation(n_samples)
    training, validation = np.sort(order[n_validation:]), np.sort(order[:n_validation])
    if labels is None:
        return training, validation
    labels = np.asarray(labels)
    unlearnt = np.setdiff1d(labels[validation], labels[training])
    if unlearnt.size:
        given_back = np.array([validation[np.flatnonzero(labels[validation] == label)[0]] for label in unlearnt])
        training, validation = np.sort(np.r_[training, given_back]), np.setdiff1d(validation, given_back)
        if not validation.size:
            raise ValueError(
                f"early_stopping={early_stopping!r} holds out validation_fraction={validation_fraction} of the {n_samples} "
                "samples, and every one is the only row of its class, which training needs. Pass more rows "
                "of those classes, or set early_stopping=False."
            )
    return training, validation


def run_epoch(batch_loss, optimizer, X, *, rows, batch_size, shuffle, generator):
    """One pass over ``X[rows]`` in minibatches; returns the mean loss per row as a 0-d tensor.

    ``X`` is a tensor or a row source (``skvae._sources``). ``batch_loss(x,
    fraction)`` gets the minibatch and the fraction of the epoch completed
    once the batch is done (the KL warm-up uses it).
    """
    X = as_source(X)
    n_rows = len(X) if rows is None else rows.numel()
    if shuffle:
        order = torch.randperm(n_rows, generator=generator, device=X.device)
        if rows is not None:
            order = rows[order]
    else:
        order = None if rows is None else rows
    n_batches = math.ceil(n_rows / batch_size)
    total = torch.zeros((), dtype=torch.float32, device=X.device)
    for step in range(n_batches):
        start = step * batch_size
        stop = min(start + batch_size, n_rows)
        if order is None:
            x = X.take(slice(start, stop))
        else:
            x = X.take(order[start:stop])
        try:
            loss = batch_loss(x, (step + 1) / n_batches)
            optimizer.zero_grad()
            loss.backward()
        except (ValueError, RuntimeError) as error:
            # BatchNorm's own words: any other error of a one-row batch is not this one's to explain.
            if stop - start != 1 or "more than 1 value per channel" not in str(error):
                raise
            if n_rows == 1:
                fix = "one training row cannot train it: fit on more rows."
            elif batch_size == 1:
                fix = "choose a batch_size of 2 or more."
            else:
                fix = f"choose a batch_size that leaves more than one row over ({n_rows} % batch_size != 1)."
            raise ValueError(
                f"A module refused a training minibatch of one row ({n_rows} training rows in minibatches "
                f"of {batch_size}): {error} A module with batch statistics (nn.BatchNorm1d) needs two rows "
                f"or more: {fix}"
            ) from error
        optimizer.step()
        total += loss.detach() * (stop - start)
    return total / n_rows


def train(
    *,
    network,
    optimizer,
    X,
    rows,
    batch_loss,
    epochs,
    batch_size,
    shuffle,
    generator,
    history,
    tol,
    n_iter_no_change,
    monitor_from_epoch=0,
    loss_offset=0.0,
    validation_score=None,
    verbose=0,
    description="fit",
    incremental=False,
):
    """Train for the epoch numbers in ``epochs`` unless the stopping rule fires first.

    The rule is MLPRegressor's, applied to a moving average: an epoch counts
    as no improvement when the training loss (or, with ``validation_score``,
    the validation score), averaged exponentially over about
    ``n_iter_no_change`` epochs, does not improve on its best so far by at
    least ``tol``; training stops once more than ``n_iter_no_change`` such
    epochs follow each other. Judging single epochs, minibatch noise stops
    a slowly improving fit early: a linear VAE's loss still fell 0.009 nats
    an epoch when its epoch-to-epoch noise was 0.06, and the rule stopped it
    0.8 nats short of factor analysis. Epochs before ``monitor_from_epoch``
    (the KL warm-up, whose objective changes by design) are recorded but
    neither judged nor averaged in: their losses, low while the KL weight is
    below 1, made the first judged average a best that later epochs could
    not beat, and a ladder VAE with 50 epochs of warm-up stopped 12 epochs
    after them on load_digits, 0.5 nats of held-out bound short. With a
    validation score the network is left holding the weights of its
    best-scoring epoch.

    A ``KeyboardInterrupt`` ends training at the last epoch that completed
    (the network, optimizer and ``history`` are put back as they were then;
    under early stopping the network takes its best epoch's weights, as at
    any other end), and ``interrupted`` is returned True. An interrupt
    before any epoch of this call completes propagates.

    Returns ``(n_epochs_run, converged, interrupted)``; ``history`` is
    updated in place.
    """
    run = _Run(network, optimizer, history)
    run.progress = Progress(verbose, len(epochs), description, incremental)
    try:
        for epoch in epochs:
            if run.n_epochs:  # an interrupt in a call's first epoch propagates: nothing to rewind to
                run.epoch_starts()
            epoch_loss = run_epoch(
                lambda x, fraction, epoch=epoch: batch_loss(x, epoch + fraction),
                optimizer,
                X,
                rows=rows,
                batch_size=batch_size,
                shuffle=shuffle,
                generator=generator,
            )
            loss = float(epoch_loss) + loss_offset
            if not math.isfinite(loss):
                raise TrainingDiverged(f"Training diverged at iteration {epoch + 1}: the loss is {loss}.")
            score = validation_score() if validation_score is not None else None
            run.n_epochs += 1
            stop = _judge(run, epoch, loss, score, tol, n_iter_no_change, monitor_from_epoch)
            if stop:
                run.converged = True
                break
    except KeyboardInterrupt:
        if run.n_epochs == 0:
            raise
        run.rewind()
    finally:
        run.progress.close()
    if run.best_state is not None:
        network.load_state_dict(run.best_state)
    return run.n_epochs, run.converged, run.interrupted


class _Run:
    """One call's training: what the stopping rule and an interruption need."""

    def __init__(self, network, optimizer, history):
        self.network, self.optimizer, self.history = network, optimizer, history
        self.n_epochs, self.converged, self.interrupted = 0, False, False
        self.best_state = None
        self._completed = None

    def epoch_starts(self):
        # What the last completed epoch left: the state an interruption of
        # the epoch about to run goes back to.
        self._completed = (
            _cloned(self.network.state_dict()),
            _cloned(self.optimizer.state_dict()),
            self.history.copy(),
            self.n_epochs,
        )

    def rewind(self):
        network_state, optimizer_state, history, n_epochs = self._completed
        self.network.load_state_dict(network_state)
        self.optimizer.load_state_dict(optimizer_state)
        self.history.__dict__.update(history.__dict__)
        self.n_epochs, self.interrupted = n_epochs, True


def _cloned(state):
    """A copy of a state dict whose tensors are cloned and whose containers are new.

    ``copy.deepcopy`` does the same through Python's pickling protocol, a
    few tens of microseconds a tensor: for a small table, whose epochs are
    a few milliseconds, that was a sixth of the fit (hitters: 0.32 of
    2.1 s under cProfile).
    """
    if isinstance(state, torch.Tensor):
        return state.detach().clone()
    if isinstance(state, dict):
        copied = type(state)((key, _cloned(value)) for key, value in state.items())
        if hasattr(state, "_metadata"):  # a module's state dict: versions load_state_dict reads
            copied._metadata = state._metadata
        return copied
    if isinstance(state, (list, tuple)):
        return type(state)(_cloned(value) for value in state)
    return state


def _judge(run, epoch, loss, score, tol, n_iter_no_change, monitor_from_epoch):
    """Record the epoch; True when the stopping rule fires."""
    history = run.history
    history.loss_curve.append(loss)
    if epoch + 1 > monitor_from_epoch:
        history.smoothed_loss = _moving_average(history.smoothed_loss, loss, n_iter_no_change)
    if score is not None:
        history.validation_scores.append(score)
        history.smoothed_validation_score = _moving_average(
            history.smoothed_validation_score, score, n_iter_no_change
        )
    run.progress.epoch(epoch, loss, score)
    if epoch + 1 <= monitor_from_epoch:
        return False
    if score is not None:
        smoothed = history.smoothed_validation_score
        improved = smoothed >= history.best_smoothed_validation_score + tol
        history.best_smoothed_validation_score = max(history.best_smoothed_validation_score, smoothed)
        if score > history.best_validation_score:
            history.best_validation_score = score
            run.best_state = _cloned(run.network.state_dict())
    else:
        improved = history.smoothed_loss <= history.best_smoothed_loss - tol
        history.best_smoothed_loss = min(history.best_smoothed_loss, history.smoothed_loss)
        history.best_loss = min(history.best_loss, loss)
    history.no_improvement_count = 0 if improved else history.no_improvement_count + 1
    if history.no_improvement_count <= n_iter_no_change:
        return False
    watched = "Validation score" if score is not None else "Training loss"
    run.progress.stopped(
        f"{watched} did not improve more than tol={tol} for {n_iter_no_change} consecutive epochs. Stopping."
    )
    return True
