"""One call of ``fit`` or ``partial_fit``: build or continue the model, train it, set the fitted attributes.

``fit_estimator`` is atomic: every attribute of the estimator is put back
if anything in it raises, and the fitted model is replaced only once
training has ended, so a failed call never leaves a half-updated model.
"""

import contextlib
import copy
import warnings

import numpy as np
import torch
from sklearn.exceptions import ConvergenceWarning

from ._architecture import architecture, build_model, check_image_shape, check_unchanged
from ._columns import ColumnLayout
from ._data import resolve_device
from ._random import draw_seed, seed_source
from ._sources import (
    CHECK_ROWS,
    MODEL_BLOCK_ROWS,
    StreamedRows,
    TensorRows,
    block_rows,
    fits_on_device,
    is_streamed,
)
from ._training import History, batch_size_for, train, validation_split

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
    likelihood = list(model.likelihood.parameters())
    likelihood_ids = {id(p) for p in likelihood}
    groups = [{"params": [p for p in model.parameters() if id(p) not in likelihood_ids]}]
    if likelihood:
        groups.append({"params": likelihood, "lr": LIKELIHOOD_LR_FACTOR * learning_rate})
    optimizer = torch.optim.Adam(groups, lr=learning_rate, fused=True)
    if state is not None:
        # Adam's moment estimates carry over, the learning rates do not:
        # set_params(learning_rate_init=...) between partial_fit calls
        # takes effect.
        learning_rates = [group["lr"] for group in optimizer.param_groups]
        optimizer.load_state_dict(state)
        for group, rate in zip(optimizer.param_groups, learning_rates):
            group["lr"] = rate
    return optimizer


def fit_estimator(estimator, X, incremental, y=None, **condition_options):
    """Fit (or, ``incremental``, train one more epoch of) ``estimator`` on X; atomic.

    ``y`` is the condition of a conditional model, ignored otherwise.
    """
    with restored_on_error(estimator):
        return _fit_unprotected(estimator, X, incremental, y, condition_options)


def training_rows(est, X, conditions, device):
    """The training rows as a source: one encoded tensor, or streamed for sparse and memmapped X.

    A conditional model's conditions travel as extra columns, in front.
    """
    if is_streamed(X):
        return StreamedRows(X, est._layout.encode, device, extra_columns=conditions)
    rows = est._layout.encode_all(X)
    if conditions is not None:
        rows = np.hstack([conditions, rows])
    return TensorRows(torch.from_numpy(rows), device, resident=fits_on_device(rows.nbytes, device))


# Standardised by the kept scaling, a column of new data whose root mean
# square exceeds this many standard deviations lies outside what the model
# was fitted on: a drifted mean, or a scale from an unrepresentative first
# block. Columns are judged one by one from this many rows, and all together
# below it, where a few rows of one column say little.
_DRIFT_RMS = 3.0
_DRIFT_ROWS = 32


def _warn_if_outside_scaling(est, X_train, call):
    """Warn when later data are far outside the input scaling kept from the first fit."""
    n_gaussian = len(est._layout.indices("gaussian"))
    if not n_gaussian or len(X_train) == 0:
        return
    squares = torch.zeros(n_gaussian, dtype=torch.float64)
    counts = torch.zeros(n_gaussian, dtype=torch.float64)
    for block in X_train.blocks():
        part = est._split_rows(block)
        values = part.x if part.target is None else part.target[:, :n_gaussian]
        observed = torch.ones_like(values) if part.mask is None else part.mask[:, :n_gaussian]
        values = values.double().cpu() * observed.double().cpu()
        squares += (values**2).sum(0)
        counts += observed.double().cpu().sum(0)
    if len(X_train) >= _DRIFT_ROWS:
        rms = (squares / counts.clamp(min=1)).sqrt()
    else:
        rms = (squares.sum() / counts.sum().clamp(min=1)).sqrt().expand(n_gaussian)
    worst = int(rms.argmax())
    if rms[worst] <= _DRIFT_RMS:
        return
    names = [est._layout.columns[j].name for j in est._layout.indices("gaussian")]
    where = f"column {names[worst]!r}" if len(X_train) >= _DRIFT_ROWS else "the Gaussian columns"
    warnings.warn(
        f"{call}: X lies far outside the input scaling fixed by the first fit: {where} has a root "
        f"mean square of {float(rms[worst]):.3g} standard deviations after standardising "
        f"({int((rms > _DRIFT_RMS).sum())} of {n_gaussian} Gaussian columns over {_DRIFT_RMS:g}). "
        "The scaling is not updated after the first call. Scale X up front with a scaler fitted on "
        "all the data (e.g. StandardScaler().partial_fit over every block) and give the model scaled "
        "blocks, or shuffle the rows so the first block represents them all.",
        UserWarning,
        stacklevel=4,
    )


def _derived_seed(seed):
    """Another seed, a fixed function of ``seed``, for a stream apart from the one it seeds."""
    return int(np.random.SeedSequence(seed).generate_state(1)[0] >> 1)


# A model whose score on its own training rows falls below this many nats
# per feature (or squared standard deviations, for an autoencoder) has
# diverged: predicting every feature's mean costs about one.
_DIVERGED_SCORE_PER_FEATURE = -1e6


def _check_not_diverged(est, model, X_train, statistics, iteration):
    """Raise if training left non-finite weights or statistics, or a model that scores absurdly.

    The loop checks each epoch's loss, computed before each step; this
    checks the weights after the last one (a single step of a huge
    learning rate can wreck them), on the first ``CHECK_ROWS`` training
    rows, without drawing from the training generator.
    """
    problem = None
    if not all(torch.isfinite(p).all() for p in model.parameters()):
        problem = "its weights are not finite"
    elif not all(np.all(np.isfinite(v)) for v in statistics.values() if isinstance(v, np.ndarray)):
        problem = "its statistics on the training data are not finite"
    else:
        with torch.inference_mode():
            n_rows = min(CHECK_ROWS, block_rows(est.n_features_in_), len(X_train))
            rows = X_train.take(slice(0, n_rows))
            scores = est._row_scores(model, est._split_rows(rows), **est._validation_score_options)
            score = float(scores.double().mean()) + est._loss_offset()
        n_features = est.n_features_in_
        if not np.isfinite(score) or score < _DIVERGED_SCORE_PER_FEATURE * n_features:
            problem = f"it scores {score:.3g} on its own training rows"
    if problem is not None:
        raise ValueError(
            f"Training diverged at iteration {iteration}: after its last step {problem}. "
            "Lower learning_rate_init, or scale X (e.g. StandardScaler). The model was left "
            "as it was before this call."
        )


@contextlib.contextmanager
def _local_global_rng(seed, device):
    """Run the block with torch's global generator (CPU, and ``device``'s) seeded, then restore it.

    User modules draw from the global generator (dropout, lazy layers);
    this keeps their draws reproducible and the caller's state untouched.
    """
    cuda = [device.index or 0] if device.type == "cuda" else []
    with torch.random.fork_rng(devices=cuda):
        torch.default_generator.manual_seed(seed)
        if cuda:
            torch.cuda.default_generators[cuda[0]].manual_seed(seed)
        yield


def _fit_unprotected(est, X, incremental, y, condition_options):
    fresh_start = not hasattr(est, "network_") or not (incremental or est.warm_start)
    X = est._validated(X, reset=fresh_start, likelihood=est.likelihood)
    conditions = est._condition_columns(y, fresh_start, X.shape[0], **condition_options)
    spec = architecture(est)
    if not fresh_start:
        check_unchanged(est, est._fitted_architecture, spec)
    check_image_shape(spec, X.shape[1])
    if est.corruption == "masking" and est.corruption_level >= 1:
        raise ValueError(
            f'corruption="masking" masks a share corruption_level of the entries, which must '
            f"be below 1; got corruption_level={est.corruption_level}."
        )
    device = resolve_device(est.device, fitting=True)
    early_stopping = est.early_stopping and not incremental

    # Attributes set before training ends are put back by
    # restored_on_error should anything below fail.
    if fresh_start:
        rng = np.random.RandomState(draw_seed(seed_source(est.random_state)))
        init_seed = draw_seed(rng)
        est._score_seed = draw_seed(rng)
        est._layout = ColumnLayout.fit(X, spec["likelihood"], handle_unknown=getattr(est, "handle_unknown", "error"))
        est._check_scaling(est._layout.scaling)
        est.column_likelihoods_ = {column.name: column.likelihood for column in est._layout.columns}
        likelihood = est._layout.likelihood(**est._likelihood_options())
        model = build_model(est, spec, X.shape[1], likelihood,
                            torch.Generator().manual_seed(init_seed), module_seed=_derived_seed(init_seed),
                            n_condition=0 if conditions is None else conditions.shape[1],
                            n_inputs=est._layout.n_inputs)
        est._fitted_architecture = spec
        history, n_iter, optimizer_state = History(), 0, None
    else:
        est._layout.check_values(X)
        rng = copy.deepcopy(est._rng)
        model = copy.deepcopy(est.network_)
        history, n_iter = copy.deepcopy(est._history), est.n_iter_
        optimizer_state = copy.deepcopy(est._optimizer_state) if incremental else None
        if not incremental:
            history.restart_validation()
    model.to(device)

    X_train = training_rows(est, X, conditions, device)
    if not fresh_start:
        _warn_if_outside_scaling(est, X_train, "partial_fit" if incremental else "fit (warm_start=True)")
    train_rows, validation_score = None, None
    if early_stopping:
        train_rows, validation_rows = validation_split(X.shape[0], est.validation_fraction, rng)
        train_rows = torch.as_tensor(train_rows, device=device)
        validation_rows = torch.as_tensor(validation_rows, device=device)
        validation_block = min(block_rows(X.shape[1]), MODEL_BLOCK_ROWS)

        def validation_score():
            model.eval()
            try:
                with torch.inference_mode():
                    scores = torch.cat([
                        est._row_scores(model, est._split_rows(X_train.take(chunk)), **est._validation_score_options)
                        for chunk in validation_rows.split(validation_block)
                    ])
            finally:
                model.train()
            return float(scores.mean())

    n_train = X.shape[0] if train_rows is None else train_rows.numel()
    optimizer = make_optimizer(model, est.learning_rate_init, optimizer_state)
    generator_seed = draw_seed(rng)
    generator = torch.Generator(device=device).manual_seed(generator_seed)

    model.train()
    with _local_global_rng(_derived_seed(generator_seed), device):
        n_epochs, converged, interrupted = train(
            network=model,
            optimizer=optimizer,
            X=X_train,
            rows=train_rows,
            batch_loss=lambda x, epochs_elapsed: est._batch_loss(model, x, epochs_elapsed, generator),
            epochs=range(n_iter, n_iter + (1 if incremental else est.max_iter)),
            batch_size=batch_size_for(est.batch_size, n_train),
            shuffle=est.shuffle,
            generator=generator,
            history=history,
            tol=est.tol,
            n_iter_no_change=est.n_iter_no_change,
            monitor_from_epoch=est._monitor_from_epoch(),
            loss_offset=est._loss_offset(),
            validation_score=validation_score,
            verbose=est.verbose,
            description=type(est).__name__,
        )
    model.eval()
    statistics = est._fitted_statistics(model, X_train)
    _check_not_diverged(est, model, X_train, statistics, iteration=n_iter + n_epochs)
    est.network_ = model
    est._rng = rng
    est._history = history
    est._optimizer_state = optimizer.state_dict()
    est.n_iter_ = n_iter + n_epochs
    est.loss_curve_ = list(history.loss_curve)
    est.validation_scores_ = list(history.validation_scores) if early_stopping else None
    est.best_validation_score_ = history.best_validation_score if early_stopping else None
    est.best_loss_ = None if early_stopping else history.best_loss
    for name, value in statistics.items():
        setattr(est, name, value)

    if interrupted:
        warnings.warn(
            f"{type(est).__name__}: training was interrupted (KeyboardInterrupt) after "
            f"iteration {est.n_iter_}; the model holds the weights of "
            f"{'its best epoch' if early_stopping else 'that iteration'}, and n_iter_ and "
            "loss_curve_ stop there. Call fit with warm_start=True, or partial_fit, to go on.",
            UserWarning,
        )
    elif not incremental and not converged:
        warnings.warn(
            f"{type(est).__name__}: maximum iterations ({est.max_iter}) reached "
            "and the optimization hasn't converged yet. Increase max_iter, or "
            "raise tol.",
            ConvergenceWarning,
        )
    return est

