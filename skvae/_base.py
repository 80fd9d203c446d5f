"""What both autoencoder estimators share.

Parameters and their validation, ``fit`` / ``partial_fit`` (both call
``_fit``), ``transform``, ``inverse_transform``, feature names, tags,
devices and pickling live here; subclasses supply the network, the
per-batch loss, ``score_samples`` and ``sample``.

Data flows one way: numpy in -> validate -> float32 tensor -> network ->
tensor -> numpy out, in the caller's dtype.
"""

import contextlib
import copy
import warnings
from abc import ABCMeta, abstractmethod
from numbers import Integral, Real

import numpy as np
import torch
from sklearn.base import (
    BaseEstimator,
    ClassNamePrefixFeaturesOutMixin,
    TransformerMixin,
    _fit_context,
)
from sklearn.exceptions import ConvergenceWarning
from sklearn.utils import check_random_state
from sklearn.utils._param_validation import Interval, StrOptions
from sklearn.utils.validation import check_array, check_is_fitted, validate_data

from ._networks import ACTIVATIONS
from ._training import History, train

FLOAT_DTYPES = (np.float64, np.float32)

# Evaluation runs the network on chunks of exactly this many rows, padding the
# last one. A CPU matrix product picks a different kernel, with a different
# summation order, for a handful of rows than for many; a fixed chunk shape,
# with the layer widths padded too (see ``_networks``), makes each row's
# output bitwise independent of the batch it arrives in.
EVAL_CHUNK_ROWS = 1024

# The likelihood's parameters (log-variances) learn this much faster than
# the weights; see ``_optimizer``.
LIKELIHOOD_LR_FACTOR = 10.0

# Rows per block when statistics are computed over the training data.
_STAT_BLOCK_ROWS = 4096


def row_blocks(X):
    """Consecutive blocks of rows of a tensor, to bound temporary memory."""
    return X.split(_STAT_BLOCK_ROWS)


@contextlib.contextmanager
def _restored_on_error(estimator):
    """Put back every attribute of ``estimator`` if the block raises.

    ``fit`` builds new objects and never mutates the fitted ones in place, so
    a shallow copy of ``__dict__`` is a complete snapshot.
    """
    snapshot = estimator.__dict__.copy()
    try:
        yield
    except BaseException:
        estimator.__dict__.clear()
        estimator.__dict__.update(snapshot)
        raise


def _seed_source(random_state):
    """A RandomState for ``random_state``; ``None`` gets fresh OS entropy.

    scikit-learn would map ``None`` to numpy's global RandomState; drawing
    from it would change the caller's global RNG state, so we do not.
    """
    if random_state is None:
        return np.random.RandomState(np.random.SeedSequence().generate_state(1)[0])
    return check_random_state(random_state)


def _draw_seed(rng):
    return int(rng.randint(np.iinfo(np.int32).max))


def _tensors_to_cpu(obj):
    if isinstance(obj, torch.Tensor):
        return obj.detach().cpu()
    if isinstance(obj, dict):
        return {key: _tensors_to_cpu(value) for key, value in obj.items()}
    if isinstance(obj, (list, tuple)):
        return type(obj)(_tensors_to_cpu(value) for value in obj)
    return obj


class BaseAutoencoder(
    ClassNamePrefixFeaturesOutMixin, TransformerMixin, BaseEstimator, metaclass=ABCMeta
):
    """Base class for the autoencoder transformers; not for direct use."""

    _parameter_constraints: dict = {
        "latent_dim": [Interval(Integral, 1, None, closed="left")],
        "hidden_layer_sizes": ["array-like", Interval(Integral, 1, None, closed="left")],
        "activation": [StrOptions(set(ACTIVATIONS))],
        "likelihood": [StrOptions({"gaussian", "bernoulli"})],
        "batch_size": [StrOptions({"auto"}), Interval(Integral, 1, None, closed="left")],
        "learning_rate_init": [Interval(Real, 0, None, closed="neither")],
        "max_iter": [Interval(Integral, 1, None, closed="left")],
        "tol": [Interval(Real, 0, None, closed="left")],
        "n_iter_no_change": [Interval(Integral, 1, None, closed="left")],
        "early_stopping": ["boolean"],
        "validation_fraction": [Interval(Real, 0, 1, closed="left")],
        "shuffle": ["boolean"],
        "warm_start": ["boolean"],
        "random_state": ["random_state"],
        "verbose": ["verbose"],
        "device": [StrOptions({"cpu", "cuda", "auto"})],
    }

    # Parameters that fix the network's shape: warm_start and partial_fit
    # continue the fitted network, so they cannot change them.
    _architecture_parameters = ("latent_dim", "hidden_layer_sizes", "activation", "likelihood")

    # ------------------------------------------------------------------ hooks

    @abstractmethod
    def _build_network(self, n_features, hidden_layer_sizes, generator):
        """A fresh ``nn.Module`` for ``n_features`` inputs."""

    @abstractmethod
    def _batch_loss(self, network, x, epochs_elapsed, generator):
        """Mean training loss of the minibatch ``x`` (standardised units)."""

    @abstractmethod
    def _encode_mean(self, network, x):
        """The deterministic code of each row of ``x`` (standardised units)."""

    @abstractmethod
    def _row_scores(self, network, x, **score_options):
        """``score_samples`` of the standardised rows ``x``, in input units.

        Must depend on each row alone; ``_validation_score_options`` are the
        options used to judge epochs under early stopping.
        """

    _validation_score_options: dict = {}

    @abstractmethod
    def _draw_codes(self, n_samples, rng):
        """``n_samples`` latent codes for ``sample``, as a float64 array."""

    @abstractmethod
    def _fitted_statistics(self, network, X):
        """Attributes computed on the training tensor once training ends."""

    def _monitor_from_epoch(self):
        """Epochs that the stopping rule must not judge (the KL warm-up)."""
        return 0

    def _loss_offset(self):
        """Constant added to the training loss to report it in input units."""
        return 0.0

    # ---------------------------------------------------------------- fitting

    @_fit_context(prefer_skip_nested_validation=True)
    def fit(self, X, y=None):
        """Fit the model to X.

        Parameters
        ----------
        X : array-like of shape (n_samples, n_features)
            Training data.

        y : None
            Ignored; present for API consistency.

        Returns
        -------
        self : object
            The fitted estimator.
        """
        return self._fit(X, incremental=False)

    @_fit_context(prefer_skip_nested_validation=True)
    def partial_fit(self, X, y=None):
        """Train for one epoch over X, initialising the model on the first call.

        The input scaling (``likelihood="gaussian"``) is computed on the first
        call's X and kept; ``early_stopping`` does not apply. Later calls
        use the current ``learning_rate_init`` and refuse a changed network
        shape (``latent_dim``, ``hidden_layer_sizes``, ...). ``y`` is ignored
        without being validated.

        Parameters
        ----------
        X : array-like of shape (n_samples, n_features)
            Training data.

        y : None
            Ignored.

        Returns
        -------
        self : object
            The updated estimator.
        """
        return self._fit(X, incremental=True)

    def _fit(self, X, incremental):
        with _restored_on_error(self):
            return self._fit_unsafe(X, incremental)

    def _fit_unsafe(self, X, incremental):
        first_call = not hasattr(self, "network_") or not (incremental or self.warm_start)
        X = validate_data(self, X, reset=first_call, dtype=FLOAT_DTYPES)
        architecture = self._architecture()
        if not first_call:
            self._check_architecture_unchanged(architecture)
        self._check_input_range(X)
        hidden_layer_sizes = architecture["hidden_layer_sizes"]
        device = self._device(fitting=True)
        early_stopping = self.early_stopping and not incremental

        # Attributes set before training ends are put back by
        # _restored_on_error should anything below fail.
        if first_call:
            rng = np.random.RandomState(_draw_seed(_seed_source(self.random_state)))
            init_generator = torch.Generator().manual_seed(_draw_seed(rng))
            self._score_seed = _draw_seed(rng)
            self._input_mean, self._input_scale = self._input_scaling(X)
            network = self._build_network(X.shape[1], hidden_layer_sizes, init_generator)
            self._fitted_architecture = architecture
            history, n_iter, optimizer_state = History(), 0, None
        else:
            rng = copy.deepcopy(self._rng)
            network = copy.deepcopy(self.network_)
            history, n_iter = copy.deepcopy(self._history), self.n_iter_
            optimizer_state = copy.deepcopy(self._optimizer_state) if incremental else None
            if not incremental:
                history.no_improvement_count = 0
                history.validation_scores = []
                history.best_validation_score = -np.inf
        network.to(device)

        X_train = self._training_tensor(X, device)
        train_rows = None
        validation_score = None
        if early_stopping:
            train_rows, validation_rows = self._validation_split(X.shape[0], rng)
            train_rows = torch.as_tensor(train_rows, device=device)
            X_validation = X_train[torch.as_tensor(validation_rows, device=device)]

            def validation_score():
                with torch.inference_mode():
                    scores = self._row_scores(
                        network, X_validation, **self._validation_score_options
                    )
                return float(scores.mean())

        n_train = X.shape[0] if train_rows is None else train_rows.numel()
        optimizer = self._optimizer(network)
        if optimizer_state is not None:
            # Adam's moment estimates carry over, the learning rates do not:
            # set_params(learning_rate_init=...) between partial_fit calls
            # takes effect.
            learning_rates = [group["lr"] for group in optimizer.param_groups]
            optimizer.load_state_dict(optimizer_state)
            for group, learning_rate in zip(optimizer.param_groups, learning_rates):
                group["lr"] = learning_rate
        generator = torch.Generator(device=device).manual_seed(_draw_seed(rng))

        network.train()
        n_epochs, converged = train(
            network=network,
            optimizer=optimizer,
            X=X_train,
            rows=train_rows,
            batch_loss=lambda x, epochs_elapsed: self._batch_loss(network, x, epochs_elapsed, generator),
            epochs=range(n_iter, n_iter + (1 if incremental else self.max_iter)),
            batch_size=self._batch_size(n_train),
            shuffle=self.shuffle,
            generator=generator,
            history=history,
            tol=self.tol,
            n_iter_no_change=self.n_iter_no_change,
            monitor_from_epoch=self._monitor_from_epoch(),
            loss_offset=self._loss_offset(),
            validation_score=validation_score,
            verbose=self.verbose,
        )
        network.eval()
        statistics = self._fitted_statistics(network, X_train)

        self.network_ = network
        self._rng = rng
        self._history = history
        self._optimizer_state = optimizer.state_dict()
        self.n_iter_ = n_iter + n_epochs
        self.loss_curve_ = list(history.loss_curve)
        if early_stopping:
            self.validation_scores_ = list(history.validation_scores)
            self.best_validation_score_ = history.best_validation_score
            self.best_loss_ = None
        else:
            self.validation_scores_ = None
            self.best_validation_score_ = None
            self.best_loss_ = history.best_loss
        for name, value in statistics.items():
            setattr(self, name, value)

        if not incremental and not converged:
            warnings.warn(
                f"{type(self).__name__}: maximum iterations ({self.max_iter}) reached "
                "and the optimization hasn't converged yet. Increase max_iter, or "
                "raise tol.",
                ConvergenceWarning,
            )
        return self

    def _optimizer(self, network):
        # The likelihood's parameters are log-variances: they must travel
        # several units (variance 1 -> 0.01 is -4.6 in log space) where weights
        # move by tenths, and Adam moves any parameter by about its learning
        # rate per step. A faster rate for them keeps them in step.
        likelihood = list(network.likelihood.parameters())
        likelihood_ids = {id(p) for p in likelihood}
        groups = [{"params": [p for p in network.parameters() if id(p) not in likelihood_ids]}]
        if likelihood:
            groups.append({"params": likelihood, "lr": LIKELIHOOD_LR_FACTOR * self.learning_rate_init})
        return torch.optim.Adam(groups, lr=self.learning_rate_init, fused=True)

    def _architecture(self):
        architecture = {name: getattr(self, name) for name in self._architecture_parameters}
        architecture["hidden_layer_sizes"] = self._hidden_layer_sizes()
        return architecture

    def _check_architecture_unchanged(self, architecture):
        changed = [
            f"{name}={value!r} (fitted with {self._fitted_architecture[name]!r})"
            for name, value in architecture.items()
            if value != self._fitted_architecture[name]
        ]
        if changed:
            raise ValueError(
                f"{type(self).__name__} cannot change {', '.join(changed)} while it continues "
                "training the fitted network (warm_start=True or partial_fit). Set "
                "warm_start=False and call fit to train a new network."
            )

    def _hidden_layer_sizes(self):
        sizes = self.hidden_layer_sizes
        sizes = [sizes] if isinstance(sizes, Integral) else list(sizes)
        if not all(isinstance(size, Integral) and size > 0 for size in sizes):
            raise ValueError(
                "hidden_layer_sizes must hold positive integers, e.g. (128, 64), or be () "
                f"for a linear model; got {self.hidden_layer_sizes!r}."
            )
        return tuple(int(size) for size in sizes)

    def _check_input_range(self, X):
        if self.likelihood != "bernoulli" or X.size == 0:
            return
        low, high = X.min(), X.max()
        if low < 0 or high > 1:
            raise ValueError(
                f'likelihood="bernoulli" needs X in [0, 1]; got min={low:.3g}, max={high:.3g}. '
                'Scale X (e.g. MinMaxScaler) or use likelihood="gaussian".'
            )

    def _device(self, fitting=False):
        cuda = torch.cuda.is_available()
        if self.device == "auto":
            return torch.device("cuda" if cuda else "cpu")
        if self.device == "cuda" and not cuda:
            if fitting:
                raise ValueError(
                    'device="cuda" but torch.cuda.is_available() is False. '
                    'Use device="cpu", or device="auto" to take a GPU when there is one.'
                )
            # A model trained on a GPU and loaded on a CPU-only machine still works.
            return torch.device("cpu")
        return torch.device(self.device)

    def _input_scaling(self, X):
        """Per-feature mean and scale for the Gaussian likelihood; None for Bernoulli.

        Computed in float64 blocks so that no full-size temporary is made.
        """
        if self.likelihood != "gaussian":
            return None, None
        n_samples = X.shape[0]
        total = np.zeros(X.shape[1])
        for start in range(0, n_samples, _STAT_BLOCK_ROWS):
            total += X[start : start + _STAT_BLOCK_ROWS].sum(axis=0, dtype=np.float64)
        mean = total / n_samples
        squares = np.zeros(X.shape[1])
        for start in range(0, n_samples, _STAT_BLOCK_ROWS):
            block = X[start : start + _STAT_BLOCK_ROWS].astype(np.float64) - mean
            squares += np.einsum("ij,ij->j", block, block)
        variance = squares / n_samples
        # A constant feature keeps scale 1, with StandardScaler's test of
        # constancy: a variance within rounding error of zero, relative to
        # the variance and the mean.
        eps = np.finfo(np.float64).eps
        constant = variance <= n_samples * eps * variance + (n_samples * mean * eps) ** 2
        scale = np.sqrt(variance)
        scale[constant] = 1.0
        return mean, scale

    def _float32_scaling(self):
        """Mean, scale and inverse scale in float32: every path standardises
        with ``(x - mean) * inverse_scale``, so training and evaluation see
        bitwise the same standardised rows."""
        if self._input_mean is None:
            return None
        return tuple(
            values.astype(np.float32)
            for values in (self._input_mean, self._input_scale, 1.0 / self._input_scale)
        )

    def _training_tensor(self, X, device):
        """The one float32 copy of X the model trains on, standardised in place."""
        X32 = np.array(X, dtype=np.float32, order="C", copy=True)
        if self._input_mean is not None:
            mean32, _, inverse_scale32 = self._float32_scaling()
            for start in range(0, X32.shape[0], _STAT_BLOCK_ROWS):
                block = X32[start : start + _STAT_BLOCK_ROWS]
                block -= mean32
                block *= inverse_scale32
        return torch.from_numpy(X32).to(device)

    def _validation_split(self, n_samples, rng):
        n_validation = int(round(self.validation_fraction * n_samples))
        if n_validation < 1 or n_validation >= n_samples:
            raise ValueError(
                f"early_stopping=True holds out validation_fraction={self.validation_fraction} "
                f"of the {n_samples} samples, which leaves {n_validation} validation and "
                f"{n_samples - n_validation} training samples; both need at least 1. "
                "Change validation_fraction, pass more samples, or set early_stopping=False."
            )
        order = rng.permutation(n_samples)
        return np.sort(order[n_validation:]), np.sort(order[:n_validation])

    def _batch_size(self, n_samples):
        if self.batch_size == "auto":
            # MLP's min(200, n_samples) leaves a small data set one or two
            # steps per epoch: too few to train, and too few for a per-epoch
            # stopping rule to tell progress from noise.
            return min(n_samples, max(16, min(200, n_samples // 10)))
        if self.batch_size > n_samples:
            warnings.warn(
                f"batch_size={self.batch_size} is larger than the {n_samples} training "
                "samples; it is clipped to that.",
                UserWarning,
            )
        return min(self.batch_size, n_samples)

    # -------------------------------------------------------------- inference

    def _inference_network(self):
        check_is_fitted(self)
        network = self.network_
        device = self._device()
        if next(network.parameters()).device != device:
            network.to(device)
        return network, device

    def _scaling_tensors(self, device):
        scaling = self._float32_scaling()
        if scaling is None:
            return None
        return tuple(torch.as_tensor(values, device=device) for values in scaling)

    def _map_rows(self, X, fn, n_outputs, device):
        """``fn`` over fixed-size chunks of X's rows; numpy out in X's dtype.

        ``fn`` takes a float32 tensor of ``EVAL_CHUNK_ROWS`` rows and returns
        ``(EVAL_CHUNK_ROWS, n_outputs)``. Rows past the end of X in the last
        chunk hold stale, finite values and are dropped.
        """
        out = np.empty((X.shape[0], n_outputs), dtype=X.dtype)
        staging = torch.zeros((EVAL_CHUNK_ROWS, X.shape[1]), dtype=torch.float32)
        staging_numpy = staging.numpy()
        with torch.inference_mode():
            for start in range(0, X.shape[0], EVAL_CHUNK_ROWS):
                stop = min(start + EVAL_CHUNK_ROWS, X.shape[0])
                staging_numpy[: stop - start] = X[start:stop]
                result = fn(staging.to(device))
                out[start:stop] = result[: stop - start].cpu().numpy()
        return out

    def _standardise(self, x, scaling):
        return x if scaling is None else (x - scaling[0]) * scaling[2]

    def _destandardise(self, x, scaling):
        return x if scaling is None else x * scaling[1] + scaling[0]

    def transform(self, X):
        """Encode X: the encoder mean mu(x) of each row.

        Deterministic: a row's code depends on that row alone, not on the
        other rows passed with it or their order.

        Parameters
        ----------
        X : array-like of shape (n_samples, n_features)
            Data to encode.

        Returns
        -------
        X_new : ndarray of shape (n_samples, latent_dim)
            The codes, float32 for float32 input and float64 otherwise.
        """
        network, device = self._inference_network()
        X = validate_data(self, X, reset=False, dtype=FLOAT_DTYPES)
        scaling = self._scaling_tensors(device)
        return self._map_rows(
            X,
            lambda x: self._encode_mean(network, self._standardise(x, scaling)),
            network.latent_dim,
            device,
        )

    def inverse_transform(self, X):
        """Decode codes back to the input space: the mean of p(x | z).

        Parameters
        ----------
        X : array-like of shape (n_samples, latent_dim)
            Codes, e.g. the output of ``transform`` or points between them.

        Returns
        -------
        X_original : ndarray of shape (n_samples, n_features)
            Decoder means in the units of the training data (probabilities
            in [0, 1] for ``likelihood="bernoulli"``).
        """
        network, device = self._inference_network()
        Z = check_array(X, dtype=FLOAT_DTYPES)
        if Z.shape[1] != network.latent_dim:
            raise ValueError(
                f"X has {Z.shape[1]} features, but {type(self).__name__}.inverse_transform "
                f"expects codes with latent_dim={network.latent_dim} columns, as transform returns."
            )
        scaling = self._scaling_tensors(device)
        return self._map_rows(
            Z,
            lambda z: self._destandardise(network.likelihood.mean(network.decode(z)), scaling),
            self.n_features_in_,
            device,
        )

    def _sample(self, n_samples, random_state):
        check_is_fitted(self)
        if not isinstance(n_samples, Integral) or isinstance(n_samples, bool) or n_samples < 1:
            raise ValueError(f"n_samples must be a positive integer; got {n_samples!r}.")
        codes = self._draw_codes(n_samples, _seed_source(random_state))
        return self.inverse_transform(codes)

    def _score_samples(self, X, **score_options):
        network, device = self._inference_network()
        X = validate_data(self, X, reset=False, dtype=FLOAT_DTYPES)
        self._check_input_range(X)
        scaling = self._scaling_tensors(device)
        return self._map_rows(
            X,
            lambda x: self._row_scores(
                network, self._standardise(x, scaling), **score_options
            ).unsqueeze(1),
            1,
            device,
        )[:, 0]

    def score(self, X, y=None):
        """Mean of ``score_samples`` over the rows of X; higher is better.

        ``GridSearchCV`` and ``cross_val_score`` use it when no scorer is
        given, as they do for ``PCA``.

        Parameters
        ----------
        X : array-like of shape (n_samples, n_features)
            Data to score.

        y : None
            Ignored.

        Returns
        -------
        score : float
        """
        return float(np.mean(self.score_samples(X)))

    # ------------------------------------------------------------ sklearn API

    @property
    def _n_features_out(self):
        return self.network_.latent_dim

    def __sklearn_tags__(self):
        tags = super().__sklearn_tags__()
        tags.transformer_tags.preserves_dtype = ["float64", "float32"]
        return tags

    def __getstate__(self):
        # A copy: BaseEstimator may hand back the live __dict__ itself.
        state = dict(super().__getstate__())
        # Pickles hold CPU tensors only, so a model trained on a GPU loads on
        # a machine without one.
        network = state.get("network_")
        if network is not None and any(p.device.type != "cpu" for p in network.parameters()):
            state["network_"] = copy.deepcopy(network).cpu()
        if "_optimizer_state" in state:
            state["_optimizer_state"] = _tensors_to_cpu(state["_optimizer_state"])
        return state
