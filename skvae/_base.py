"""What every autoencoder estimator shares: the scikit-learn face over ``skvae.nn``.

Parameters and their validation, ``fit`` / ``partial_fit`` (both call
``_fit``), ``transform``, ``inverse_transform``, ``score``, feature names,
tags, devices and pickling live here. A subclass names its latent
(``_latent_class``) and supplies ``score_samples``, ``sample`` and the
statistics it reports after training; the maths is the model's.
"""

from abc import ABCMeta, abstractmethod
from collections import namedtuple
from numbers import Integral, Real

import numpy as np
import pandas as pd
from sklearn.base import BaseEstimator, ClassNamePrefixFeaturesOutMixin, TransformerMixin, _fit_context
from sklearn.utils._param_validation import Interval, StrOptions
from sklearn.utils.validation import check_array, check_is_fitted, validate_data

from ._architecture import RoutedParamsMixin
from ._data import EVAL_CHUNK_ROWS, FLOAT_DTYPES, map_rows, resolve_device
from ._export import serving_graph, to_onnx
from ._fitting import fit_estimator
from ._persistence import plain_state, restore_state, save
from ._random import seed_source
from ._sources import block_rows, is_streamed
from .nn import ACTIVATIONS, LIKELIHOODS, AutoencoderModel
from .nn.corruption import CORRUPTIONS


def _chunk_rows(X):
    """Evaluation chunk rows: 1024, or fewer for streamed (sparse, memmapped) wide data."""
    return block_rows(X.shape[1]) if is_streamed(X) else EVAL_CHUNK_ROWS


Rows = namedtuple("Rows", ["x", "target", "mask", "condition"])
Rows.__doc__ = """Model rows split: encoder inputs, likelihood targets and mask (None when they are the inputs), condition."""


class BaseAutoencoder(
    RoutedParamsMixin, ClassNamePrefixFeaturesOutMixin, TransformerMixin, BaseEstimator, metaclass=ABCMeta
):
    """Base class for the autoencoder transformers; not for direct use."""

    _parameter_constraints: dict = {
        "latent_dim": [Interval(Integral, 1, None, closed="left")],
        "hidden_layer_sizes": ["array-like", Interval(Integral, 1, None, closed="left")],
        "activation": [StrOptions(set(ACTIVATIONS))],
        "likelihood": [StrOptions(set(LIKELIHOODS))],
        "image_shape": [None, "array-like"],
        "conv_channels": ["array-like"],
        "encoder": [None, callable],
        "decoder": [None, callable],
        "corruption": [None, StrOptions(set(CORRUPTIONS))],
        "corruption_level": [Interval(Real, 0, None, closed="left")],
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
    _architecture_parameters = ("latent_dim", "activation", "likelihood", "encoder", "decoder")

    # ------------------------------------------------------------------ hooks

    _latent_class = None  # a latent of skvae.nn.latents

    def _make_latent(self, spec, in_features, generator):
        """The latent module on ``in_features`` encoder features (``skvae.nn.latents``)."""
        return self._latent_class(in_features, spec["latent_dim"], activation=spec["activation"],
                                  generator=generator)

    def _assemble(self, spec, encoder, latent, decoder, likelihood, *, generator, n_inputs, n_condition):
        """The model made of the four parts; a family member may add its own (a discriminator)."""
        return AutoencoderModel(encoder, latent, decoder, likelihood)

    def _likelihood_options(self):
        """Keyword arguments of the likelihood's constructor (after the input scaling is fitted)."""
        return {}

    def _loss_options(self, epochs_elapsed):
        """Keyword arguments of the model's ``loss`` at this point of training."""
        return {"corruption": self.corruption, "corruption_level": self.corruption_level}

    def _batch_loss(self, model, rows, epochs_elapsed, generator):
        """The training loss of a minibatch of training rows, for ``loss.backward()``."""
        part = self._split_rows(rows)
        return model.loss(part.x, generator=generator, target=part.target, mask=part.mask,
                          condition=part.condition, **self._loss_options(epochs_elapsed))

    def _monitor_from_epoch(self):
        """Epochs that the stopping rule must not judge (the KL warm-up)."""
        return 0

    def _check_scaling(self, scaling):
        """Raise if the fitted input scaling makes a reported attribute unrepresentable."""

    def _condition_columns(self, y, fresh_start, n_rows):
        """A conditional model's training conditions as float32 columns; None for the others."""
        return None

    def _eval_conditions(self, y, n_rows):
        """A conditional model's conditions for evaluating ``n_rows`` rows; None for the others."""
        return None

    def _split_rows(self, rows):
        """The parts of model rows: encoder inputs, targets, mask and condition (see ``_columns``)."""
        x, target, mask = self._layout.split(rows)
        return Rows(x, target, mask, None)

    @property
    def _scaling(self):
        """The Gaussian columns' standardisation."""
        return self._layout.scaling

    def _validated(self, X, reset, likelihood=None):
        """X checked for its shape and features; a DataFrame kept whole when its columns differ in type.

        Numeric input comes back as a float array (or sparse matrix), holes
        allowed; a DataFrame comes back as it is when fit read it column by
        column (``likelihood="auto"``, a dict, or non-numeric columns).
        """
        if reset:
            frame = isinstance(X, pd.DataFrame) and (
                likelihood == "auto" or isinstance(likelihood, dict)
                or not all(pd.api.types.is_float_dtype(dtype) or pd.api.types.is_integer_dtype(dtype)
                           for dtype in X.dtypes)
            )
        else:
            frame = self._layout.frame
        if frame:
            if not isinstance(X, pd.DataFrame):
                X = pd.DataFrame(X, columns=[c.name for c in self._layout.columns])
            validate_data(self, X, reset=reset, skip_check_array=True)
            if X.shape[0] == 0:
                raise ValueError(f"Found array with 0 sample(s) (shape={X.shape}) while a minimum of 1 is required.")
            return X
        return validate_data(self, X, reset=reset, dtype=FLOAT_DTYPES, ensure_all_finite="allow-nan",
                             accept_sparse=("csr", "csc"))

    def _loss_offset(self):
        """Constant added to the training loss to report it in input units."""
        return 0.0

    @abstractmethod
    def _row_scores(self, model, part, **score_options):
        """``score_samples`` of model rows, split into ``part`` (a ``Rows``), in input units.

        Must depend on each row alone; ``_validation_score_options`` are the
        options used to judge epochs under early stopping.
        """

    _validation_score_options: dict = {}

    @abstractmethod
    def _draw_codes(self, n_samples, rng):
        """``n_samples`` latent codes for ``sample``, as a float64 array."""

    @abstractmethod
    def _fitted_statistics(self, model, X):
        """Attributes computed on the training tensor once training ends."""

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
        call's X and kept: a model's inputs cannot change units under it.
        A later block far outside that scaling (a root mean square over 3
        standard deviations) draws a warning; to fix the scaling up front,
        fit a ``StandardScaler`` by ``partial_fit`` over every block and pass
        scaled blocks. ``early_stopping`` does not apply. Later calls
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

    def _fit(self, X, incremental, y=None, **condition_options):
        return fit_estimator(self, X, incremental, y, **condition_options)

    # -------------------------------------------------------------- inference

    def _inference_model(self):
        check_is_fitted(self)
        model, device = self.network_, resolve_device(self.device)
        if next(model.parameters()).device != device:
            model.to(device)
        # Evaluation is defined in eval mode (see skvae.nn.layers.Linear),
        # whatever a user did to network_. (Looking is cheaper than setting.)
        if any(module.training for module in model.modules()):
            model.eval()
        return model, device

    def transform(self, X):
        """Encode X: the encoder mean mu(x) of each row.

        Deterministic: a row's code depends on that row alone, not on the
        other rows passed with it or their order (for a custom encoder, if
        it keeps the contract of ``skvae.nn.encoders``).

        Parameters
        ----------
        X : array-like of shape (n_samples, n_features)
            Data to encode.

        Returns
        -------
        X_new : ndarray of shape (n_samples, latent_dim)
            The codes, float32 for float32 input and float64 otherwise.
        """
        return self._transform(X)

    def _transform(self, X, y=None):
        model, device = self._inference_model()
        X = self._validated(X, reset=False)

        def code(rows):
            part = self._split_rows(rows)
            return model.code(part.x, part.condition)

        conditions = self._eval_conditions(y, X.shape[0])
        return map_rows(X, code, model.latent_dim, device=device, encode=self._layout.encode,
                        extra_columns=conditions, width=self._layout.n_inputs, chunk_rows=_chunk_rows(X))

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
        return self._inverse_transform(X)

    def _inverse_transform(self, X, y=None):
        model, device = self._inference_model()
        Z = check_array(X, dtype=FLOAT_DTYPES)
        latent_dim = model.latent_dim
        if Z.shape[1] != latent_dim:
            raise ValueError(
                f"X has {Z.shape[1]} features, but {type(self).__name__}.inverse_transform "
                f"expects codes with latent_dim={latent_dim} columns, as transform returns."
            )
        conditions = self._eval_conditions(y, Z.shape[0])

        def reconstruct(rows):  # a conditional model's conditions come first
            if conditions is None:
                return model.reconstruct(rows)
            width = conditions.shape[1]
            return model.reconstruct(rows[:, width:], rows[:, :width])

        out = map_rows(Z, reconstruct, self.n_features_in_, device=device, decode=self._layout.decode,
                       extra_columns=conditions)
        if isinstance(out, pd.DataFrame):
            out.index = X.index if isinstance(X, pd.DataFrame) else pd.RangeIndex(len(out))
        return out

    def _sample(self, n_samples, random_state):
        check_is_fitted(self)
        if not isinstance(n_samples, Integral) or isinstance(n_samples, bool) or n_samples < 1:
            raise ValueError(f"n_samples must be a positive integer; got {n_samples!r}.")
        codes = self._draw_codes(n_samples, seed_source(random_state))
        return self.inverse_transform(codes)

    def _score_samples(self, X, y=None, **score_options):
        model, device = self._inference_model()
        X = self._validated(X, reset=False)
        self._layout.check_values(X)
        return map_rows(
            X,
            lambda rows: self._row_scores(model, self._split_rows(rows), **score_options).unsqueeze(1),
            1,
            device=device,
            encode=self._layout.encode,
            extra_columns=self._eval_conditions(y, X.shape[0]),
            chunk_rows=_chunk_rows(X),
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
        tags.input_tags.allow_nan = True
        tags.input_tags.sparse = True
        return tags

    def __getstate__(self):
        # Builtins and numpy arrays only (see _persistence): pickles hold no
        # torch objects, so a model trained on a GPU loads on any machine,
        # and skops.io needs to trust only the estimator's class.
        return plain_state(self, super().__getstate__())

    def __setstate__(self, state):
        restore_state(self, state)

    def to_torch(self, method="transform"):
        """The computation of ``transform`` or ``inverse_transform`` as a standalone torch module.

        The module takes and returns float32 tensors of any number of rows
        and includes the input scaling (in float64, as the estimator's own
        methods compute it); it holds a copy of the weights, on the CPU, in
        eval mode. ``torch.jit.trace``, ``torch.jit.script`` and
        ``torch.export.export`` accept it, for serving without skvae.

        Parameters
        ----------
        method : {"transform", "inverse_transform"}, default="transform"
            The method to compute. A conditional model's graphs compute them
            without y: the code without a condition, and the decoding
            averaged over the classes.

        Returns
        -------
        module : torch.nn.Module
        """
        check_is_fitted(self)
        return serving_graph(self, method)

    def to_onnx(self, path, method="transform"):
        """Export ``transform`` (the encoder with the input scaling) or ``inverse_transform`` to ONNX.

        The graph's input and output are float32 with a dynamic batch
        dimension; onnxruntime reproduces the estimator's method to float32
        rounding (within 1e-5 relative). Needs the ``onnx`` and
        ``onnxscript`` packages (``pip install skvae[onnx]``).

        Parameters
        ----------
        path : str or path-like
            Where to write the ``.onnx`` file.

        method : {"transform", "inverse_transform"}, default="transform"
            The method to export (see ``to_torch``).

        Returns
        -------
        path : str or path-like
            ``path``, written.
        """
        check_is_fitted(self)
        return to_onnx(self, path, method)

    def save(self, path):
        """Write the estimator to ``path``, in a format that runs no code when read.

        The file (a zip archive) holds the parameters, the fitted attributes
        and the input scaling as JSON, and the weights and other arrays as
        safetensors, with the skvae, torch and scikit-learn versions and a
        format version. ``skvae.load(path)`` reads it back; it needs the
        ``safetensors`` package. A custom encoder or decoder is stored as a
        reference to its class, which ``load`` imports only when told to
        trust it. Pickle and joblib work too, as for any estimator.

        Parameters
        ----------
        path : str or path-like
            Where to write; by convention ending in ``.skvae``.
        """
        check_is_fitted(self)
        save(self, path)
