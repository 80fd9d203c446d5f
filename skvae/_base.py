"""What every autoencoder estimator shares: the scikit-learn face over ``skvae.nn``.

Parameters and their validation, the fit (``fit`` and ``partial_fit`` both
call ``_fit``, whose steps are methods: validate, build or continue,
train, finish), ``transform``, ``inverse_transform``, ``sample``,
``score``, feature names, tags and devices live here; the checks of X
that the outlier detector shares in ``skvae._validation``, what a call
warns of inputs its fit did not see (new holes, unseen categories,
values past a range) in ``skvae._call_inputs``, ``to_torch`` and
``to_onnx`` in ``skvae._export``, pickling and ``save`` in
``skvae._persistence`` (mixins over the same serving graphs and state).
Every output runs the same path: X's columns as float values
(``skvae._schema``), the model's front that encodes them
(``skvae.nn.columns``), the model, and back through the same two objects.

A subclass names its family (``_family``, a model class that keeps the
contract of ``skvae.nn.model``) and says what its own parameters mean for
it: the keywords of the family's loss terms (``_loss_weights``) and, for
a conditional model, its conditions.
"""

import contextlib
import copy
import math
import threading
from abc import ABCMeta
from collections import namedtuple
from numbers import Integral, Real
from types import MappingProxyType

import numpy as np
import pandas as pd
import scipy.sparse as sp
import torch
from sklearn.base import (
    BaseEstimator,
    ClassNamePrefixFeaturesOutMixin,
    TransformerMixin,
    _fit_context,
)
from sklearn.exceptions import ConvergenceWarning
from sklearn.utils._param_validation import Interval, Options, StrOptions
from sklearn.utils.validation import _assert_all_finite, check_array, check_is_fitted, validate_data

from ._architecture import (
    AUTO_HIDDEN_LAYER_SIZES,
    RoutedParamsMixin,
    architecture,
    build_model,
    check_image_shape,
    check_unchanged,
    resolve_hidden_layer_sizes,
    resolve_noise_variance,
)
from ._call_inputs import (
    HOLE_READ_AS,
    columns_with_holes,
    nothing_observed,
    unknown_levels,
    warn_of_inputs_far_beyond,
    warn_of_new_holes,
    widened,
)
from ._data import (
    FLOAT32_MAX,
    FLOAT_DTYPES,
    map_rows,
    on_cpu_by_default,
    resolve_device,
    row_blocks,
    zero_padded,
)
from ._docs import fill_doc
from ._export import ExportMixin
from ._fitting import (
    Health,
    check_later_scaling,
    check_not_diverged,
    derived_seed,
    local_global_rng,
    make_optimizer,
    restored_on_error,
)
from ._persistence import PersistenceMixin
from ._prior import clear_code_mixture, fit_code_mixture
from ._random import RowNoise, draw_seed, seed_source
from ._schema import Schema, _row_named, infinite_value_error
from ._sources import (
    CHECK_ROWS,
    MODEL_BLOCK_ROWS,
    StreamedRows,
    TensorRows,
    as_tensor,
    block_rows,
    encode_all,
    encoding_outgrows,
    evaluation_chunk_rows,
    fits_on_device,
    is_streamed,
    spread_rows,
)
from ._statistics import as_one_image, column_statistics
from ._threads import (
    extra_training_multiply_adds,
    multiply_adds_per_row,
    threads_for,
    torch_threads,
)
from ._training import (
    History,
    TrainingDiverged,
    batch_size_for,
    train,
    training_weights,
    validation_split,
)
from ._validation import (
    as_pandas,
    call_parameter,
    check_features,
    check_has_rows,
    codes_of_width,
    output_dtype,
    plain_rows,
    row_weights,
    with_plain_holes,
)
from ._warnings import warn
from .nn import ACTIVATIONS, LIKELIHOODS, Batch, ColumnCodec
from .nn.corruption import CORRUPTIONS
from .nn.layers import all_finite

# Held while a fitted model moves to the device a call asks for (``_inference_model``).
_MOVE_LOCK = threading.Lock()

# early_stopping="auto" holds out a validation share from this many training
# rows on (as HistGradientBoosting does from 10,000): there it stops a fit
# once the held-out bound stops improving, and a 10,000 x 20 table fitted in
# 17 s instead of 47 s. On the smaller tables of benchmarks/suite.py it cost
# mu(x) accuracy (worse in 10 of 17 settings, by 0.011 on average): the
# held-out rows leave training and judge it noisily.
EARLY_STOPPING_AUTO_ROWS = 10_000


def _user_modules_rng(data, seed):
    """torch's global generator seeded from ``seed`` for the block, then restored, where a user's module may draw from it.

    Only a user's modules draw from it (skvae's own take a ``generator``):
    seeding it, process-wide, is for them alone; fits of such modules in
    threads side by side take turns (``local_global_rng``), and others run
    side by side.
    """
    if data.spec["encoder"] is None and data.spec["decoder"] is None:
        return contextlib.nullcontext()
    return local_global_rng(derived_seed(seed), data.device)


FitData = namedtuple("FitData", ["X", "values", "spec", "conditions", "device", "incremental", "fresh", "weights"],
                     defaults=[None])
FitData.__doc__ = """One fit call's validated inputs: X, its float values, the architecture, the conditions, the device,
the rows' weights (``sample_weight``; None: every row counts once)."""

FitState = namedtuple("FitState", ["model", "rng", "history", "n_iter", "optimizer_state"])
FitState.__doc__ = """Where training starts: a new model, or a copy of the fitted one with its history."""

TrainingRun = namedtuple("TrainingRun", ["n_epochs", "converged", "interrupted", "early_stopping", "optimizer",
                                         "start", "best_carried"])
TrainingRun.__doc__ = """What training did: epochs run, how it ended, the optimizer, the model's ``Health`` before it,
and whether the stopping rule started from a best average carried over from earlier calls."""


def _one_output_share(outputs, inputs):
    """The largest share of the distinct encoder inputs that the decoder gives one and the same output.

    A network whose units died gives them one output; a few rows that still
    turned a unit on (2 distinct outputs of 300 rows, 1.008 standard
    deviations off) hid it from a test that every output be the same. Rows
    with the same inputs (a sparse table's empty rows) rightly share one,
    and count once. 0 where no two distinct inputs share an output.
    """
    _, output_of = torch.unique(outputs, dim=0, return_inverse=True)
    _, input_of = torch.unique(inputs, dim=0, return_inverse=True)
    pairs = torch.unique(torch.stack([output_of, input_of], 1), dim=0)
    largest = int(torch.bincount(pairs[:, 0]).max())
    return 0.0 if largest < 2 else largest / (int(input_of.max()) + 1)


def _index_of(*given, n_rows):
    """The index a frame model's output rows carry: the first of ``given`` that is a pandas object of
    ``n_rows`` rows (codes, then conditions: a row drawn for a label is that label's row); None for a
    RangeIndex."""
    for value in given:
        if isinstance(value, (pd.Series, pd.DataFrame)) and len(value) == n_rows:
            return value.index
    return None


@contextlib.contextmanager
def _blamed_on(far, call, noise_level=0.0):
    """A loss that overflows blamed on what caused it: a later call's value ``far`` (see
    ``check_later_scaling``), or input noise of a standard deviation ``noise_level`` whose squares
    overflow float32 (smaller noise, even 1e15, trains: a divergence there is the learning rate's)."""
    try:
        yield
    except TrainingDiverged as error:
        if far is None and noise_level > math.sqrt(FLOAT32_MAX):
            raise TrainingDiverged(
                error.finding,
                f'corruption="gaussian" adds noise of standard deviation corruption_level={noise_level:g}, '
                f"whose squares overflow float32 (beyond {math.sqrt(FLOAT32_MAX):.2g}): lower corruption_level "
                "(0.1 to 1 is usual for inputs of scale 1), not the learning rate. The model was left as it "
                "was before this call.",
            ) from None
        if far is None:
            raise
        row, column, deviation = far
        raise ValueError(
            f"{call}: {error.finding} Row {row} of X lies {deviation:.3g} standard deviations from column {column!r}'s "
            "mean in the scaling fixed by the first fit, where float32 squares overflow the loss: a lower "
            "learning rate cannot help. Drop the row, or fit from scratch (fit, not partial_fit or "
            "warm_start) on data that holds such values."
        ) from None


@fill_doc
class BaseAutoencoder(
    ExportMixin, PersistenceMixin, RoutedParamsMixin, ClassNamePrefixFeaturesOutMixin, TransformerMixin,
    BaseEstimator, metaclass=ABCMeta,
):
    """Base class for the autoencoder estimators; not for direct use."""

    _parameter_constraints: dict = {
        "latent_dim": [Interval(Integral, 1, None, closed="left")],
        "hidden_layer_sizes": [StrOptions({"auto"}), "array-like", Interval(Integral, 1, None, closed="left")],
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
        "n_iter_no_change": [Interval(Integral, 1, None, closed="left"), Options(Real, {np.inf})],
        "early_stopping": [StrOptions({"auto"}), "boolean"],
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

    # The model family: a class keeping the contract of skvae.nn.model.
    _family = None

    # Whether reaching max_iter warns where the stopping rule could not have ended the fit
    # sooner (a family whose default trains every epoch by design says False).
    _warn_when_the_rule_cannot_stop = True

    # Whether early_stopping="auto" holds rows out from EARLY_STOPPING_AUTO_ROWS on (a family whose
    # held-out bound is not what it trains for says False).
    _auto_early_stopping = True

    # What the parameters call the width of the codes, for messages.
    _code_width_name = "latent_dim"

    # Whether sample draws codes from a mixture fitted to the training codes (skvae._prior),
    # where the family's latent takes one; False keeps its prior.
    _samples_from_code_mixture = True

    # Whether a decoder giving most training rows one output, though their observed values differ,
    # is a dead network, warned of. Not for a variational model, whose posterior may
    # rightly collapse to the columns' own densities, nor a VQ-VAE, whose rows sharing a code
    # share an output.
    _one_output_is_dead = False

    # Whether a fit leaves a column without an observed value unread (an imputer's, as
    # IterativeImputer skips one) rather than refusing it: no output of the model reads it.
    _unobserved_columns_unread = False

    # What every fit leaves (files of every format hold them): load refuses a state without one,
    # as another estimator's file, rather than failing at the first call that reads it.
    _fitted_state = ("n_features_in_", "n_iter_", "network_", "_fitted_architecture", "_optimizer_state",
                     "_history", "_rng", "_score_seed")

    # ------------------------------------------------- what a subclass says

    def _loss_weights(self, epochs_elapsed):
        """Keyword arguments of the family's ``loss_terms`` at this point of training."""
        return {"corruption": self.corruption, "corruption_level": self.corruption_level}

    def _monitor_from_epoch(self):
        """Epochs that the stopping rule must not judge (the KL warm-up)."""
        return 0

    def _check_family_parameters(self):
        """Raise where parameters that passed ``_parameter_constraints`` do not fit together."""

    def _check_statistics(self, statistics):
        """Raise if the training columns' statistics make a reported attribute unrepresentable."""

    def _training_conditions(self, y, fresh_start, incremental, n_rows, **options):
        """A conditional model's training conditions as float32 columns; None for the others."""
        return None

    def _classes_of_rows(self, conditions):
        """A conditional model's class of each training row, which its validation split keeps; None for the others."""
        return None

    def _evaluation_conditions(self, y, n_rows):
        """A conditional model's conditions for evaluating ``n_rows`` rows; None for the others."""
        return None

    def _read(self, X):
        """X of a call after fit, checked against the fit, without the columns no output reads."""
        return self._schema.read(self._validated(X, reset=False))

    def _validated(self, X, reset, likelihood=None):
        """X checked for its shape and features; a DataFrame kept whole, its columns read one by one.

        Numeric input comes back as a float array (or sparse matrix), holes
        allowed; a DataFrame comes back as it is, for the schema to read its
        columns and give outputs back in its dtypes.
        """
        if not reset and not self._schema.frame and plain_rows(X, self):
            # What validate_data would return, at a fraction of its cost: one-row calls matter.
            return X
        X = as_pandas(X)
        frame = isinstance(X, pd.DataFrame) if reset else self._schema.frame
        if frame:
            check_features(self, X, reset)  # before an array is named after the training columns
            if not isinstance(X, pd.DataFrame):
                # A sparse matrix given to a frame-fitted model is densified, as scikit-learn's
                # estimators fitted on a frame read it: the columns are read one by one.
                X = pd.DataFrame(X.toarray() if sp.issparse(X) else X, columns=self._schema.input_names)
            check_has_rows(X, self)
            return X
        X = with_plain_holes(X, fitted_on_array=not reset)
        if getattr(X, "ndim", 2) > 2 and getattr(self, "image_shape", None) is not None:
            raise ValueError(
                f"X has shape {X.shape}: {type(self).__name__} takes each image as one flat row, with "
                f"image_shape={tuple(self.image_shape)} to read it back. Flatten them channel by channel: "
                "X.reshape(len(X), -1) for images of shape (height, width) or (channels, height, width); "
                "images.transpose(0, 3, 1, 2).reshape(len(images), -1) for (height, width, channels)."
            )
        dtype = getattr(X, "dtype", None)
        if isinstance(dtype, np.dtype) and dtype.kind in "mM":
            # Read as numbers, they are counts of the array's unit: the same dates in days and in
            # seconds gave other codes, and NaT the count -9.2e18, not a hole.
            raise ValueError(
                f"X is an array of {dtype} values, whose numbers are counts of its unit, and NaT no hole. "
                "Pass them as a DataFrame, whose date and duration columns skvae reads as such "
                "(pd.DataFrame(X)), or as numbers in a unit you choose (e.g. X.astype('datetime64[s]')"
                ".astype(float) for seconds, after replacing NaT)."
            )
        # A memmap's infinities are looked for a block of rows at a time: scikit-learn's check of an
        # array with holes makes a boolean array of X's size (1 GiB for a 4.1 GiB memmap).
        blockwise = is_streamed(X) and not sp.issparse(X)
        X = validate_data(self, X, reset=reset, dtype=FLOAT_DTYPES, accept_sparse=("csr", "csc"),
                          ensure_all_finite=False if blockwise else "allow-nan")
        if blockwise:
            for block in row_blocks(X):
                _assert_all_finite(block, allow_nan=True, estimator_name=type(self).__name__, input_name="X")
        if sp.issparse(X) and not X.has_canonical_format:
            # Statistics and checks read the stored entries: one per position, as the dense X holds it.
            X = X.copy()
            X.sum_duplicates()
        return X

    # ---------------------------------------------------------------- fitting

    @_fit_context(prefer_skip_nested_validation=True)
    def fit(self, X, y=None, sample_weight=None):
        """Fit the model to X.

        Ctrl-C (``KeyboardInterrupt``) after the first epoch ends training
        at the last completed epoch, with a warning, and keeps that model,
        as ``MLPRegressor`` keeps its own; in the first epoch it leaves
        the estimator as it was.

        Parameters
        ----------
        X : array-like of shape (n_samples, n_features)
            Training data.

        y : None
            Ignored; present for API consistency.

        ${sample_weight_parameter}

        Returns
        -------
        self : object
            The fitted estimator.
        """
        return self._fit(X, incremental=False, sample_weight=sample_weight)

    @_fit_context(prefer_skip_nested_validation=True)
    def partial_fit(self, X, y=None, sample_weight=None):
        """Train for one epoch over X, initialising the model on the first call.

        The input scaling (``likelihood="gaussian"``) is computed on the first
        call's X and kept: a model's inputs cannot change units under it.
        So are what ``likelihood="auto"`` chose for each column (log-normal,
        censored bounds), what ``hidden_layer_sizes="auto"`` and
        ``noise_variance="auto"`` chose from the first call's number of rows
        (pass explicit values where a block has fewer rows than X has
        columns), and each column's range: ``sample`` draws stay within the
        first call's smallest and largest values, and log-normal columns'
        decoded values at or below its largest; a Gaussian or log-normal
        column that held one value in the first call decodes as that value
        until a later call's rows vary it. So is each column's share of holes, at which ``sample``
        draws them. So are a string column's levels: to learn levels that
        later blocks hold first, give the column a pandas Categorical dtype
        listing every level before the first call. A later block far outside
        the first call's scaling (a root mean square over 3 standard
        deviations) draws a warning. Scaling the blocks beforehand does not
        change this (the model standardises by the first call's rows,
        whatever their units): pass a first block that represents the data
        (shuffled rows), or start with ``fit`` on rows drawn across it.

        ``VAETransformer``, ``VAEGANTransformer`` and ``VAEImputer`` sample
        codes from N(0, I) after a call, not from the mixture fitted to the
        codes after ``fit`` (one block's codes are not the data's); the
        autoencoder's Gaussian and the VQ-VAE's code frequencies pool the
        rows of every call since the last ``fit`` (or the stream's first
        call; ``n_samples_seen_``, as in ``IncrementalPCA``), each block's
        codes as encoded at the end of its own call. ``early_stopping``
        does not apply. Each call's ``sample_weight`` weighs its rows
        against each other, not against other calls' rows. Later calls
        use the current ``learning_rate_init`` and refuse a changed network
        shape (``latent_dim``, ``hidden_layer_sizes``, ...). ``y`` is ignored
        without being validated.

        Parameters
        ----------
        X : array-like of shape (n_samples, n_features)
            Training data.

        y : None
            Ignored.

        ${sample_weight_parameter}

        Returns
        -------
        self : object
            The updated estimator.
        """
        return self._fit(X, incremental=True, sample_weight=sample_weight)

    @on_cpu_by_default
    def _fit(self, X, incremental, y=None, sample_weight=None, **condition_options):
        """One call of ``fit`` or ``partial_fit``; atomic: a failure leaves every attribute as it was."""
        if incremental and hasattr(self, "network_"):
            # scikit-learn's _fit_context validates a fitted model's partial_fit no more (its
            # parameters were read at the first call); every call here reads them afresh.
            self._validate_params()
        self._check_family_parameters()
        # Training needs autograd whatever the caller's mode: a fit inside torch.no_grad() or
        # torch.inference_mode() failed in backward with torch's "does not require grad".
        with restored_on_error(self), torch.inference_mode(False), torch.enable_grad():
            data = self._validate_fit(X, y, incremental, condition_options)
            data = data._replace(weights=row_weights(sample_weight, data.X))
            state = self._build(data) if data.fresh else self._continued(data)
            # A user's module may draw from torch's global generator in any forward pass: the
            # checks and statistics around training too.
            with (_user_modules_rng(data, self._score_seed + state.n_iter),
                  torch_threads(self._fit_threads(data, state.model), new_threads_keep_the_callers=True)):
                rows, run = self._train(data, state)
                self._finish(data, state, rows, run)
            # Read by the warnings of holes in columns complete at fit: set_params does not change what it learnt.
            self._trained_with_masking = self._masks_entries() or (not data.fresh and self._learnt_to_read_any_hole())
        return self

    def _learnt_to_read_any_hole(self):
        """Whether training masked entries (``corruption="masking"``), as a hole in any column reads."""
        # A model saved before this was recorded: its parameter, the best guess.
        return getattr(self, "_trained_with_masking", self._masks_entries())

    def _masks_entries(self):
        """Whether this fit hides entries as holes while training (at corruption_level=0 it hides none)."""
        return self.corruption == "masking" and self.corruption_level > 0

    def _fit_threads(self, data, model):
        """Threads for training: as many as a minibatch step's work pays for (``skvae._threads``)."""
        # The training step's size; training itself warns of a clipped batch_size, once.
        batch_size = max(1, batch_size_for(self.batch_size, data.X.shape[0], warn_if_clipped=False))
        # A row's own passes (counted once per model, for evaluation too), and its family's (a VAE-GAN's
        # discriminator: one zero row's passes, counted at each call).
        count = self._multiply_adds(model) + extra_training_multiply_adds(model)
        return threads_for(3 * batch_size * count)  # forward and backward

    def _multiply_adds(self, model):
        """Multiply-adds of one row through the model; counted once per model."""
        count = getattr(model, "_multiply_adds_per_row", None)
        if count is None:
            conditions = getattr(self, "_conditions", None)
            count = multiply_adds_per_row(model, model.columns.n_inputs, 0 if conditions is None else conditions.width)
            model._multiply_adds_per_row = count
        return count

    def _validate_fit(self, X, y, incremental, condition_options):
        """Check X, y and the parameters; fix the columns on a fresh start."""
        fresh = not hasattr(self, "network_") or not (incremental or self.warm_start)
        # Read before validation reads float16 as float32: the columns' dtype at fit, for a warm start's range check.
        given_dtype = _given_dtype(X)
        X = self._validated(X, reset=fresh, likelihood=self.likelihood)
        conditions = self._training_conditions(y, fresh, incremental, X.shape[0], **condition_options)
        spec = architecture(self)
        if not fresh:
            check_unchanged(self, self._fitted_architecture, spec)
        check_image_shape(spec, X.shape[1], fresh)
        if self.corruption == "masking" and self.corruption_level >= 1:
            raise ValueError(
                f'corruption="masking" masks a share corruption_level of the entries, which must '
                f"be below 1; got corruption_level={self.corruption_level}."
            )
        device = resolve_device(self.device, fitting=True)
        schema = (Schema.fit(X, spec["likelihood"], as_one="image_shape" in spec, given_dtype=given_dtype,
                             skip_unobserved=self._unobserved_columns_unread) if fresh
                  else self._schema)
        if not fresh and not incremental and schema.unread:
            holding = schema.unread_holding_values(X)
            if holding:
                warn(
                    f"{type(self).__name__}: fit (warm_start=True) keeps the first fit's columns, and X holds values "
                    f"in {holding[:5]}{', ...' if len(holding) > 5 else ''}, which had none then: the model does not "
                    "read them. Fit with warm_start=False to learn them.",
                    UserWarning,
                )
        X = schema.read(X)
        values = schema.values(X, handle_unknown=self._handle_unknown, training=not fresh) if schema.frame else X
        schema.check(values, fitted=not fresh)
        if not fresh:
            if nothing_observed(values):
                # A fresh fit refuses a column without an observed value; a block without any would
                # still move the weights, through the prior's term alone.
                raise ValueError(
                    f"X holds no observed value in its {X.shape[0]} rows: there is nothing to learn from. "
                    "Drop the rows without any value."
                )
            # Masking hides entries in training as such a hole reads (a zero input): it learns them.
            masked = self._masks_entries() or self._learnt_to_read_any_hole()
            new_holes = set() if masked else columns_with_holes(values) - set(schema.flagged)
            if new_holes:
                warn_of_new_holes(
                    self,
                    new_holes,
                    f"{'partial_fit' if incremental else 'fit (warm_start=True)'} trains on those rows with "
                    f"such a hole read {HOLE_READ_AS} (the model has no missing-value input for these "
                    "columns) and left out of the loss. The first fit call decides which columns can have "
                    "holes: give it rows with holes in these columns, or fill the holes first.",
                    unknown_levels(X, values, new_holes, schema),
                )
            beyond = [] if incremental else schema.beyond_ranges(X, values, given_dtype)
            if beyond:
                # partial_fit's docstring says so of every later block; a warm start reads as a new fit.
                warn(
                    f"{type(self).__name__}: fit (warm_start=True) keeps the first fit's column ranges, "
                    f"within which sample draws, but X holds values beyond them in "
                    f"{beyond[:5]}{', ...' if len(beyond) > 5 else ''}: sample will not reach them. "
                    "Fit with warm_start=False to take X's ranges.",
                    UserWarning,
                )
            schema = schema.with_time_steps_of(X)
        self._schema = schema
        return FitData(X, values, spec, conditions, device, incremental, fresh)

    def _build(self, data):
        """A new model: the front fitted to X's columns, the networks initialised from ``random_state``."""
        rng = np.random.RandomState(draw_seed(seed_source(self.random_state)))
        init_seed = draw_seed(rng)
        self._score_seed = draw_seed(rng)
        schema = self._schema
        statistics = column_statistics(data.values, schema)
        if "image_shape" in data.spec:
            statistics = as_one_image(statistics, schema)
        self._check_statistics(statistics)
        for name, value in schema.fitted_attributes().items():
            setattr(self, name, value)
        # What "auto" chose is kept, as hidden_layer_sizes_ is, for loading the model again.
        self._noise_variance = resolve_noise_variance(data.spec.get("noise_variance"), *data.X.shape)
        columns = ColumnCodec(schema.likelihoods, n_categories=schema.n_categories, flagged=schema.flagged,
                              statistics=statistics, censored=schema.censored, noise_variance=self._noise_variance)
        self.hidden_layer_sizes_ = resolve_hidden_layer_sizes(data.spec["hidden_layer_sizes"], *data.X.shape)
        if data.incremental:
            self._warn_of_choices_from_a_small_first_block(data)
        spec = {**data.spec, "hidden_layer_sizes": self.hidden_layer_sizes_}
        model = build_model(self._family, spec, columns, torch.Generator().manual_seed(init_seed),
                            module_seed=derived_seed(init_seed),
                            n_condition=0 if data.conditions is None else data.conditions.shape[1])
        self._fitted_architecture = data.spec
        return FitState(model, rng, History(), 0, None)

    def _warn_of_choices_from_a_small_first_block(self, data):
        """Warn where "auto" chose a linear network (or one noise variance) from a first block of fewer rows than columns.

        A fit on so few rows is the documented rule's case; a stream's first
        block of 32 rows of 64 columns made every later block train a
        linear network, without a word.
        """
        n_rows, n_columns = data.X.shape
        chosen = []
        if data.spec["hidden_layer_sizes"] == "auto" and self.hidden_layer_sizes_ == ():
            chosen.append(f"hidden_layer_sizes='auto' chose a linear network () (more rows give {AUTO_HIDDEN_LAYER_SIZES})")
        if data.spec.get("noise_variance") == "auto" and self._noise_variance == "isotropic":
            chosen.append("noise_variance='auto' chose one variance for all columns ('isotropic')")
        if chosen:
            warn(
                f"{type(self).__name__}: partial_fit's first block has {n_rows} rows, fewer than its {n_columns} "
                f"columns: from it, {' and '.join(chosen)}, kept for every later call. To choose for the "
                "whole stream, pass these parameters explicitly, or a first block of more rows than columns.",
                UserWarning,
            )

    def _continued(self, data):
        """Copies of the fitted model, its random state and history: ``warm_start`` and ``partial_fit``."""
        history = self._history.copy()
        if not data.incremental:
            history.restart_validation()
        optimizer_state = copy.deepcopy(self._optimizer_state) if data.incremental else None
        return FitState(copy.deepcopy(self.network_), copy.deepcopy(self._rng), history, self.n_iter_, optimizer_state)

    def _train(self, data, state):
        """Train ``state.model`` on X until the stopping rule or ``max_iter`` (one epoch for ``partial_fit``)."""
        model, rng, device = state.model, state.rng, data.device
        model.to(device)
        early_stopping = self.early_stopping
        if isinstance(early_stopping, str):  # "auto": never where nothing is to be held out
            early_stopping = (self._auto_early_stopping and data.X.shape[0] >= EARLY_STOPPING_AUTO_ROWS
                              and self.validation_fraction > 0)
        early_stopping = bool(early_stopping) and not data.incremental
        train_rows, validation_rows, validation_score = None, None, None
        if early_stopping:
            train_rows, validation_rows = validation_split(data.X.shape[0], self.validation_fraction, rng,
                                                           self._classes_of_rows(data.conditions), self.early_stopping)
        weights = training_weights(data.weights, train_rows, validation_rows, self.early_stopping)
        rows = self._training_rows(model, data.values, data.conditions, device,
                                   frame=data.X if self._schema.frame else None, weights=weights)
        call, far = ("partial_fit" if data.incremental else "fit (warm_start=True)"), None
        if not data.fresh:
            far = check_later_scaling(rows, model.columns, [c.name for c in self._schema.columns], call)
            model.columns.release_constants(rows)
        if early_stopping:
            train_rows = torch.as_tensor(train_rows, device=device)
            validation_rows = torch.as_tensor(validation_rows, device=device)
            validation_block = min(block_rows(data.X.shape[1]), MODEL_BLOCK_ROWS)

            def validation_score():
                model.eval()
                try:
                    with torch.inference_mode():
                        scored = []  # each chunk's scores and weights; its encoded rows are let go
                        for chunk in validation_rows.split(validation_block):
                            batch = rows.take(chunk)
                            scored.append((self._row_score(model, batch, fast=True), batch.weight))
                        scores = torch.cat([part for part, _ in scored])
                finally:
                    model.train()
                if weights is None:
                    return float(scores.mean())
                held_out = torch.cat([part for _, part in scored]).to(scores.device, torch.float64)
                return float((scores.double() * held_out).sum() / held_out.sum())

        start = self._check_health(model, rows, data.X.shape[1])
        if data.fresh and not math.isfinite(start.score):
            raise ValueError(
                f"Before any training step, the new model scores training rows {start.score}: its "
                "networks return values that are not finite on them, which no learning rate fixes. A "
                "custom encoder or decoder (docs/custom_modules.md) must return finite values for finite "
                "inputs."
            )
        # Before training moves it: the validation record restarts with each call, the loss's does not.
        best_carried = not early_stopping and math.isfinite(state.history.best_smoothed_loss)
        n_train = len(rows) if train_rows is None else train_rows.numel()
        optimizer = make_optimizer(model, self.learning_rate_init, state.optimizer_state)
        generator_seed = draw_seed(rng)
        generator = torch.Generator(device=device).manual_seed(generator_seed)

        model.train()
        # Training's own stream within the fit's, as it was before the fit's was seeded.
        noise_level = self.corruption_level if self.corruption == "gaussian" else 0.0
        with _user_modules_rng(data, generator_seed), _blamed_on(far, call, noise_level):
            n_epochs, converged, interrupted = train(
                network=model,
                optimizer=optimizer,
                X=rows,
                rows=train_rows,
                batch_loss=lambda batch, epochs_elapsed: self._batch_loss(model, batch, epochs_elapsed, generator),
                epochs=range(state.n_iter, state.n_iter + (1 if data.incremental else self.max_iter)),
                batch_size=batch_size_for(self.batch_size, n_train),
                shuffle=self.shuffle,
                generator=generator,
                history=state.history,
                tol=self.tol,
                n_iter_no_change=self.n_iter_no_change,
                monitor_from_epoch=self._monitor_from_epoch(),
                loss_offset=float(model.units_offset()),
                validation_score=validation_score,
                verbose=self.verbose,
                description=type(self).__name__,
                incremental=data.incremental,
            )
        model.eval()
        return rows, TrainingRun(n_epochs, converged, interrupted, early_stopping, optimizer, start, best_carried)

    def _finish(self, data, state, rows, run):
        """The fitted statistics and the checks of the result; then, and only then, the fitted attributes."""
        model = state.model
        # A partial_fit goes on from the statistics of the calls so far, which the family merges where
        # they describe the rows seen; a fit, warm start included, starts them afresh from its rows.
        previous = MappingProxyType(vars(self)) if data.incremental and not data.fresh else None
        statistics = model.statistics(rows.blocks(), previous=previous)
        n_iter = state.n_iter + run.n_epochs
        health = self._check_health(model, rows, data.X.shape[1])
        names = [self._schema.columns[j].name for j in model.columns.standardised_columns()]
        check_not_diverged(model, run.start, health, statistics, data.X.shape[1], names, iteration=n_iter,
                           continued=not data.fresh)
        # N(0, I) unless a mixture of this fit's codes replaces it: a warm start's copy holds the
        # last fit's, of other codes. partial_fit keeps N(0, I): a mixture of one block's codes
        # drew only that block's kind of rows (a stream ordered by class sampled its last class),
        # and refitting it every call cost 20 times the call.
        clear_code_mixture(model)
        if self._samples_from_code_mixture and not data.incremental:
            fit_code_mixture(model, rows, derived_seed(self._score_seed + n_iter))
        self._after_training(model, rows, statistics)
        history = state.history
        self.network_ = model
        self._rng = state.rng
        self._history = history
        self._optimizer_state = run.optimizer.state_dict()
        self.n_iter_ = n_iter
        self.loss_curve_ = list(history.loss_curve)
        self.validation_scores_ = list(history.validation_scores) if run.early_stopping else None
        self.best_validation_score_ = history.best_validation_score if run.early_stopping else None
        self.best_loss_ = None if run.early_stopping else history.best_loss
        for name, value in statistics.items():
            setattr(self, name, value)
        if run.interrupted:
            kept = "that iteration"
            if run.early_stopping:
                # Within the KL warm-up no epoch is judged on the held-out rows: none is best.
                judged = np.isfinite(history.best_validation_score)
                kept = "its best epoch" if judged else "that iteration (no epoch had been judged on the held-out rows yet)"
            warn(
                f"{type(self).__name__}: training was interrupted (KeyboardInterrupt) after "
                f"iteration {self.n_iter_}; the model holds the weights of "
                f"{kept}, and n_iter_ and "
                "loss_curve_ stop there. Call fit with warm_start=True, or partial_fit, to go on.",
                UserWarning,
            )
        elif not data.incremental and not run.converged:
            self._warn_of_no_convergence(state, run)

    def _warn_of_no_convergence(self, state, run):
        """ConvergenceWarning for a fit that ran out of ``max_iter``, with the settings that can end it."""
        # The rule judges epochs after the warm-up and fires after n_iter_no_change + 1 of them
        # without improvement, the first average included: before that no tol helps. A warm
        # start restarts its count (a new fit call, as the validation record).
        warmup = self._monitor_from_epoch()
        left = max(0, warmup - state.n_iter)
        # A best average carried from earlier calls lets the first judged epoch count already.
        carried = run.best_carried
        needed = left + self.n_iter_no_change + (1 if carried else 2)
        parts = ((f"the KL warm-up's {'last ' if state.n_iter else ''}{left}, then " if left else "")
                 + ("n_iter_no_change + 1, in a warm start" if carried else "n_iter_no_change + 2"))
        if math.isinf(self.n_iter_no_change):
            # Asked for, as MLPRegressor warns of it: the rule never ends a fit.
            if not self._warn_when_the_rule_cannot_stop:
                return
            advice = "With n_iter_no_change=inf the stopping rule never ends a fit; give a number to let it."
        elif self.max_iter >= needed:
            # The remedy the README names for small tables too, where a family stops on held-out rows.
            advice = ("Increase max_iter, raise tol, or stop on held-out rows (early_stopping=True)."
                      if self._auto_early_stopping and not run.early_stopping else "Increase max_iter, or raise tol.")
        elif self._warn_when_the_rule_cannot_stop:
            # Only the settings that can bring the epochs needed within max_iter.
            judged = needed - left - self.n_iter_no_change  # what no setting here shortens
            warmup_alone = left and self.max_iter >= needed - left
            patience_alone = self.n_iter_no_change > 1 and self.max_iter >= needed - self.n_iter_no_change + 1
            levers = ["Increase max_iter"] + (["shorten kl_warmup"] if warmup_alone else []) + (
                ["lower n_iter_no_change"] if patience_alone else []) + (
                ["both shorten kl_warmup and lower n_iter_no_change"]
                if left and self.n_iter_no_change > 1 and not (warmup_alone or patience_alone)
                and self.max_iter >= judged + 1 else [])
            advice = (f"The stopping rule cannot end a fit of max_iter={self.max_iter} epochs: it needs "
                      f"{needed} ({parts}). {', '.join(levers[:-1])}{' or ' if len(levers) > 1 else ''}{levers[-1]}.")
        else:
            return
        warn(
            f"{type(self).__name__}: maximum iterations ({self.max_iter}) reached "
            f"and the optimization hasn't converged yet. {advice}",
            ConvergenceWarning,
        )

    def _batch_loss(self, model, batch, epochs_elapsed, generator):
        """One training step's loss: the family's terms, summed in order."""
        loss = None
        for term in model.loss_terms(batch, generator, **self._loss_weights(epochs_elapsed)).values():
            loss = term if loss is None else loss + term
        return loss

    def _after_training(self, model, rows, statistics):
        """Diagnostics of a trained model before it is kept (the VAE-GAN's discriminator)."""

    def _check_health(self, model, rows, n_features):
        """What the divergence check compares, on training rows spread over the set (``Health``).

        The share of rows given one output is measured only where it marks a dead network
        (``_one_output_is_dead``).
        """
        was_training = model.training
        model.eval()
        try:
            with torch.inference_mode():
                batch = spread_rows(rows, min(CHECK_ROWS, block_rows(n_features)))
                scores = self._row_score(model, batch, fast=True)
                outputs = model.decode(model.reconstruction_code(batch), batch.condition)
                squared, observed = model.squared_errors(batch, outputs=outputs)
                one_output = _one_output_share(outputs, batch.x) if self._one_output_is_dead else 0.0
        finally:
            model.train(was_training)
        positions = model.columns.standardised_targets()
        errors = (squared[positions] / observed[positions].clamp_min(1.0)).sqrt().cpu().numpy()
        noise = model.columns.standardised_noise()
        return Health(float(scores.double().mean()) + float(model.units_offset()), errors, one_output, noise)

    def _training_rows(self, model, values, conditions, device, frame=None, weights=None):
        """The training rows as a source: encoded once into tensors, or minibatch by minibatch.

        Per minibatch: sparse and memmapped X, and rows whose encoding would
        outgrow X (``encoding_outgrows``). ``values`` are X's float values (X
        itself, for an array or a sparse matrix); ``frame``, the DataFrame
        they were read from, names rows in errors; ``weights``, the rows'
        (``Batch.weight``), or None.
        """
        schema = self._schema
        # Rows are encoded on the CPU and moved as a whole (or per minibatch).
        columns = model.columns if device.type == "cpu" else copy.deepcopy(model.columns).cpu()

        def encode(block, first_row, positions=None):
            block = schema.values(block) if not schema.frame else block
            condition = None
            if conditions is not None:
                chosen = conditions[first_row : first_row + len(block)] if positions is None else conditions[positions]
                condition = torch.from_numpy(np.ascontiguousarray(chosen))
            with torch.no_grad():
                batch = self._encoded(columns, as_tensor(block), condition, len(block), first_row,
                                      frame=frame if positions is None else None)
            if weights is not None:
                chosen = weights[first_row : first_row + len(block)] if positions is None else weights[positions]
                batch = batch.replaced(weight=torch.from_numpy(np.ascontiguousarray(chosen, dtype=np.float32)))
            return batch

        if is_streamed(values) or encoding_outgrows(*values.shape, columns.n_inputs):
            return StreamedRows(values, encode, device)
        batch = encode_all(encode, values)
        resident = fits_on_device(sum(t.numel() * t.element_size() for t in batch if t is not None), device)
        return TensorRows(batch, device, resident=resident)

    def _encoded(self, columns, values, condition, n_rows, first_row, targets=True, frame=None):
        """Rows of values through the model's front, as a ``Batch``; a clear error for values float32 cannot hold.

        ``frame``: the DataFrame whose rows from ``first_row`` these are, for its index labels in the error.
        """
        # Only the real rows: a one-row call's chunk is padded to 32 rows, whose encoding (a float64
        # standardisation of each) was a fifth of a one-row transform. Padding rows are zeros as
        # encoded, where they were encoded zeros; no real row's output reads them.
        x, target, mask = columns.encode(values[:n_rows], targets)
        if n_rows < len(values):
            x, target, mask = (None if t is None else zero_padded(t, len(values)) for t in (x, target, mask))
        real = x[:n_rows]
        if not all_finite(real):
            row, position = (int(i) for i in torch.nonzero(~torch.isfinite(real))[0])
            column = int(columns._input_column[position]) if position < columns.n_value_inputs else position
            infinite = torch.nonzero(torch.isinf(torch.as_tensor(values[:n_rows])))
            if len(infinite):
                # An infinity itself (scikit-learn's assume_finite let it through), not the column's
                # first value, which the infinity's statistics make non-finite too.
                row, column = (int(i) for i in infinite[0])
            value = float(values[row, column])
            if self._schema.frame:
                name = self._schema.columns[column].name
                rows = None if frame is None else frame.iloc[first_row : first_row + n_rows]
                where, which = f"Column {name!r} holds {value:.3g} ({_row_named(rows, first_row, row)}),", f"column {name!r}"
            else:
                where, which = f"X[{first_row + row}, {column}] = {value:.3g} is", f"column {column}"
            if len(infinite):
                raise infinite_value_error(f"{where} infinite")
            raise ValueError(
                f"{where} beyond float32's range (+-{FLOAT32_MAX:.3g}) once encoded for the model, which "
                f"computes in float32. Rescale {which} (e.g. StandardScaler, or a log transform), or drop "
                "the row."
            )
        return Batch(x, target, mask, condition)

    def _row_score(self, model, batch, n_rows=None, **options):
        """The model's score of each row; rows past ``n_rows`` pad an evaluation chunk."""
        return model.row_score(batch, RowNoise(batch.x, self._score_seed, n_rows), **options)

    # -------------------------------------------------------------- inference

    @property
    def _handle_unknown(self):
        # Read at each call, so that set_params on a fitted model takes effect (as in OneHotEncoder).
        return call_parameter(self, "handle_unknown") if hasattr(self, "handle_unknown") else "error"

    def _inference_model(self):
        check_is_fitted(self)
        model, device = self.network_, resolve_device(call_parameter(self, "device"))
        # Evaluation is defined in eval mode (see skvae.nn.layers.Linear),
        # whatever a user did to network_. (Looking is cheaper than setting,
        # and looking through lists made once cheaper than walking the tree:
        # a one-row transform is a few hundred microseconds.)
        # (A tuple: nn.Module would register a Parameter set on it as its own.)
        looked_up = getattr(model, "_evaluation_lookup", None)
        if looked_up is None:
            looked_up = model._evaluation_lookup = (list(model.modules()), next(model.parameters()))
        modules, first_parameter = looked_up
        if first_parameter.device != device or model.__dict__.get("_served_on") != device:
            # One move at a time, marked done after it: the first parameter moves first, and a call
            # from another thread that saw it moved read the others where they still were.
            with _MOVE_LOCK:
                model.to(device)
                model.__dict__["_served_on"] = device
        if any(module.training for module in modules):
            model.eval()
        return model, device

    def _rows_outside_support(self, X):
        """Which rows of X ``score_samples`` refuses: a value the fitted likelihoods cannot score, or one beyond float32 once encoded."""
        check_is_fitted(self)
        model, device = self._inference_model()
        columns = model.columns if device.type == "cpu" else copy.deepcopy(model.columns).cpu()
        X = self._read(X)
        schema = self._schema
        # In blocks, as scoring reads X: a memmap or a large frame is never read whole.
        step = block_rows(X.shape[1])
        outside = []
        for start in range(0, X.shape[0], step):
            block = X.iloc[start : start + step] if schema.frame else X[start : start + step]
            values = schema.values(block, start, handle_unknown=self._handle_unknown)
            with torch.no_grad():
                inputs, _, _ = columns.encode(as_tensor(values), targets=False)
            beyond = ~torch.isfinite(inputs).all(dim=1).numpy()
            outside.append(schema.rows_outside_support(values) | beyond)
        return np.concatenate(outside) if outside else np.zeros(0, dtype=bool)

    def _map_batches(self, X, function, n_outputs, *, y=None, targets=False, out_dtype=None, saturate=False,
                     warn_new_holes=True, draws_per_row=1, rows_per_row=1):
        """``function(model, batch, n_rows)`` over X's rows in row-independent chunks, through the model's front.

        A chunk's first ``n_rows`` rows are real; the rest pad it. ``saturate``:
        outputs beyond a float32 X's range come back as its extreme values.
        ``warn_new_holes=False``: a caller scoring the same X again says nothing twice.
        ``draws_per_row``: how many times a row is decoded (a variational
        score's draws), for the threads its work pays for and its memory;
        ``rows_per_row``: how many rows of the model's batch ``function``
        makes of each (see ``map_rows``).
        """
        model, device = self._inference_model()
        X = self._read(X)
        schema = self._schema
        conditions = self._evaluation_conditions(y, X.shape[0])
        columns = model.columns
        # Scored holes in columns without holes at fit, which have no missing-value input to read one by
        # (unless masking taught the encoder to read a hole anywhere, as the fit's own check counts it).
        new_holes, unknown, far = set(), set(), {}
        watch_holes = targets and not self._learnt_to_read_any_hole()

        def prepare(block, first_row):
            values = schema.values(block, first_row, handle_unknown=self._handle_unknown)
            if targets:
                schema.check(values)
            else:
                widened(far, schema.inputs_far_beyond_support(values))
            with np.errstate(over="ignore", invalid="ignore"):  # a sum past float32's range is no hole
                any_hole = watch_holes and np.isnan(values.sum())  # cheaply: values are dense floats
            if any_hole:
                holed = set(np.flatnonzero(np.isnan(values).any(axis=0)).tolist()) - set(columns.flagged)
                new_holes.update(holed)
                unknown.update(unknown_levels(block, values, holed, schema))
            return values

        def run(values, condition, n_rows, first_row):
            batch = self._encoded(columns, values, condition, n_rows, first_row, targets, X if schema.frame else None)
            return function(model, batch, n_rows)

        if out_dtype is None:
            out_dtype = output_dtype(X)
        chunk_rows = evaluation_chunk_rows(X)
        out = map_rows(X, run, n_outputs, device=device, prepare=prepare, conditions=conditions,
                       chunk_rows=chunk_rows, out_dtype=out_dtype, saturate=saturate,
                       work_per_row=self._multiply_adds(model), draws_per_row=draws_per_row,
                       rows_per_row=rows_per_row)
        warn_of_inputs_far_beyond(self, far)
        if new_holes and warn_new_holes:
            warn_of_new_holes(
                self,
                new_holes,
                f"The encoder reads such a hole {HOLE_READ_AS}, so those rows' scores are not comparable "
                "with complete rows' (they move, either way). The first fit call decides which columns "
                "can have holes: fit on rows with holes in these columns, which teaches the model to read "
                'them, or with corruption="masking", which hides entries while training (in a '
                "cross-validation, where a fold's training rows may hold none), or fill the holes first "
                "(VAEImputer.transform).",
                unknown,
            )
        return out

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
        check_is_fitted(self)
        return self._map_batches(X, lambda model, batch, n_rows: model.code(batch), self.network_.latent_dim, y=y)

    def inverse_transform(self, X):
        """Decode codes back to the input space: the mean of p(x | z) (a log-normal column's median).

        Parameters
        ----------
        X : array-like of shape (n_samples, latent_dim)
            Codes, e.g. the output of ``transform`` or points between them.

        Returns
        -------
        X_original : ndarray or DataFrame of shape (n_samples, n_features)
            Decoder means in the units of the training data (probabilities
            in [0, 1] for ``likelihood="bernoulli"``).
            A DataFrame in the training columns and dtypes for a model
            fitted on one (a category as its most probable value, a bool
            or integer 0/1 column as 0 or 1 by its probability's side of
            1/2); otherwise an array: float32 for float32 codes, else float64.
        """
        return self._inverse_transform(X)

    def _inverse_transform(self, X, y=None):
        Z = self._checked_codes(X)
        *_, codes = self._code_layout()
        out = self._decoded(Z, self._evaluation_conditions(y, Z.shape[0]), codes=codes, out_dtype=self._decoded_dtype(Z))
        return self._schema.restore(out, index=_index_of(X, y, n_rows=Z.shape[0]), dtype=Z.dtype)

    def _code_layout(self):
        """The codes ``inverse_transform`` takes: their width, their words in messages, ``codes(latent, z)`` to decode."""
        latent_dim = self.network_.latent_dim
        return latent_dim, f"codes with {self._code_width_name}={latent_dim} columns", lambda latent, z: z

    def _decoded_dtype(self, Z):
        """The dtype decoded values of codes Z are written in: an array model's output's, a frame model's float64."""
        # Written in the output's dtype chunk by chunk, as restore would clip and cast them: a float64
        # buffer first peaked at 3 times a float32 output (PCA.inverse_transform: 2).
        return np.float64 if self._schema.frame else Z.dtype

    def _checked_codes(self, X):
        check_is_fitted(self)
        width, named, _ = self._code_layout()
        return check_array(codes_of_width(X, width, self, named), dtype=FLOAT_DTYPES)

    def _decoded(self, Z, conditions, codes, how="mean", generator=None, out_dtype=np.float64):
        """Values in X's units (a category as its index) decoded from ``codes(latent, Z)`` chunk by chunk.

        ``conditions``: ``_evaluation_conditions``' columns for Z's rows.
        ``out_dtype``: theirs, values beyond its range at its extremes.
        """
        model, device = self._inference_model()

        def decode(z, condition, n_rows, first_row):
            return model.decoded(codes(model.latent, z.float()), condition, how, generator)

        return map_rows(Z, decode, len(self._schema.columns), device=device, conditions=conditions, out_dtype=out_dtype,
                        saturate=True, work_per_row=self._multiply_adds(model), in_order=generator is not None)

    def _check_sample_call(self, n_samples, from_likelihood):
        """Refuse a bad ``sample`` call before anything is drawn from the caller's generator."""
        check_is_fitted(self)
        if not isinstance(n_samples, Integral) or isinstance(n_samples, bool) or n_samples < 1:
            raise ValueError(f"n_samples must be a positive integer; got {n_samples!r}.")
        if not isinstance(from_likelihood, (bool, np.bool_)):
            raise ValueError(f"from_likelihood must be True or False; got {from_likelihood!r}.")

    @on_cpu_by_default
    def _sample(self, n_samples, random_state, y=None, from_likelihood=True):
        self._check_sample_call(n_samples, from_likelihood)
        conditions = self._evaluation_conditions(y, n_samples)
        rng = seed_source(random_state)
        draws = self.network_.latent.draw(n_samples, rng)
        how, generator = "mean", None
        if from_likelihood:
            # Drawn after the codes, so a sample's codes are the same either way.
            how = "sample"
            generator = torch.Generator(device=resolve_device(call_parameter(self, "device"))).manual_seed(draw_seed(rng))
        out = self._schema.rounded_for_sample(self._schema.clipped(
            self._decoded(draws, conditions, codes=lambda latent, z: latent.from_prior(z), how=how, generator=generator)
        ))
        if from_likelihood:
            out = self._schema.with_holes(out, rng, self._row_hole_rates(conditions))
        return self._schema.restore(out, index=_index_of(y, n_rows=n_samples))

    def _row_hole_rates(self, conditions):
        """Each drawn row's rate of holes per column, by its condition; None (here): each column's training rate."""

    def _score_samples(self, X, y=None, *, warn_new_holes=True, **score_options):
        # A bound beyond float32's range (a row far outside the data) is float32's lowest value, not
        # an overflow: the bound itself is finite, computed in float64.
        check_is_fitted(self)  # before network_ is read
        scores = self._map_batches(
            X, lambda model, batch, n_rows: self._row_score(model, batch, n_rows, **score_options).unsqueeze(1), 1, y=y,
            targets=True, saturate=True, warn_new_holes=warn_new_holes,
            draws_per_row=self.network_.score_draws(**score_options),
        )
        return scores[:, 0]

    def score(self, X, y=None):
        """Mean of ``score_samples`` over the rows of X; higher is better.

        ``GridSearchCV`` and ``cross_val_score`` use it when no scorer is
        given, as they do for ``PCA``. Scores compare models of the same
        likelihood: a density (Gaussian) and a probability (Bernoulli,
        categorical) of the same values are on different scales, so search
        ``likelihood`` itself by a downstream scorer. What ``"auto"``
        decides (``likelihood``, ``hidden_layer_sizes``, ``noise_variance``,
        ``early_stopping``) each fold of a search decides from its own rows:
        pin them where the data sit near those rules (values in [0, 1] but
        for a few rows; about as many rows as columns).

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
        return float(np.mean(self.score_samples(X), dtype=np.float64))  # float32 scores would overflow the sum

    # ------------------------------------------------------------ sklearn API

    @property
    def column_time_units_(self):
        """The unit each date or duration column's training values were whole numbers of (see the class docstring)."""
        check_is_fitted(self, "network_")
        return {c.name: pd.Timedelta(int(c.step), unit="ns") if c.step else None
                for c in self._schema.columns if c.kind in ("datetime", "timedelta") and c.categories is None}

    @property
    def _n_features_out(self):
        return self.network_.latent_dim

    def __sklearn_is_fitted__(self):
        # What check_is_fitted asks at every call; its own answer scans vars(self).
        return hasattr(self, "network_")

    def __sklearn_tags__(self):
        tags = super().__sklearn_tags__()
        tags.transformer_tags.preserves_dtype = ["float64", "float32"]
        tags.input_tags.allow_nan = True
        tags.input_tags.sparse = True
        return tags


def _given_dtype(X):
    """X's float dtype as given: an array's, or the widest of a frame's columns (None where not one)."""
    if hasattr(X, "dtype"):
        return X.dtype
    try:
        return np.result_type(*X.dtypes) if hasattr(X, "dtypes") else None
    except (TypeError, ValueError):  # no float dtype among them, or no column at all
        return None
