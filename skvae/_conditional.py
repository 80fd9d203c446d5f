"""ConditionalVAETransformer: a VAE that models X given a condition y, and generates on request."""

from numbers import Integral, Real

import numpy as np
import pandas as pd
import scipy.sparse as sp
import torch
from scipy.special import logsumexp
from sklearn.base import _fit_context
from sklearn.utils._param_validation import Interval
from sklearn.utils.validation import check_is_fitted

from . import _data
from ._conditions import Conditions, _shown
from ._data import (
    EVAL_CHUNK_ROWS,
    EVAL_ROW_MULTIPLE,
    STAT_BLOCK_ROWS,
    map_rows,
    sparse_holes,
    zero_padded,
)
from ._docs import fill_doc
from ._export import InverseTransformGraph, TransformGraph, check_method
from ._fitting import DRIFT_CLIP, DRIFT_RMS, DRIFT_ROWS, drift_rms, warn_of_drift
from ._random import draw_seed, seed_source
from ._sources import evaluation_chunk_rows
from ._vae import VAETransformer
from ._warnings import warn
from .nn import Batch


@fill_doc
class ConditionalVAETransformer(VAETransformer):
    """Conditional variational autoencoder (CVAE): models x given a condition y.

    Encoder and decoder both read the condition (Sohn et al. 2015): class
    labels, one-hot coded, or numeric covariates, standardised. The model
    learns p(x | y) = integral of p(z) p(x | z, y) dz, so ``sample(n, y=k)``
    generates rows of class k only, and ``inverse_transform(transform(x),
    y=k)`` redraws x in class k with x's style ("style transfer").

    **What mu(x) means.** A condition explains part of each row, so the
    code carries what the condition does not (for digits: the style of the
    stroke, not which digit). ``transform(X, y=y)`` returns the mean of
    q(z | x, y). ``transform(X)`` without y, which is what a ``Pipeline``
    calls, returns the mean of q(z | x, no condition): during training the
    encoder also reads a share ``condition_dropout`` of the rows without
    their condition and learns to give, from x alone, the code it gives
    with it. Either
    way the code is meant to hold little about y: as features for a
    classifier of y itself it does worse than a plain VAE's mu(x), by
    design (see the benchmark), and better for anything y does not explain.

    **Scores.** ``score_samples(X, y)`` is a lower bound on log p(x | y),
    the ELBO (or IWAE bound) of the conditional model. Without y, for class
    labels, it is the bound ``log sum_k prior_k exp(ELBO(x | k))`` on log
    p(x), with ``prior_k`` the training frequency of class k; covariates
    have no distribution in the model, so there it needs y.
    ``GridSearchCV(...).fit(X, y)`` scores with y.

    Parameters
    ----------
    latent_dim : int, default=2
        Dimension of the code z, the number of output features. Both
        networks read the condition beside their input: a custom encoder
        is called with ``in_features`` the model's inputs plus
        ``n_condition_features_``, a custom decoder with
        ``in_features=latent_dim + n_condition_features_``.

    ${network_parameters}

    ${vae_parameters_but_free_bits}

    free_bits : float, default=0.0
        Minimum KL per latent dimension, in nats, below which a dimension is
        not penalised (Kingma et al. 2016), as in ``VAETransformer``. Off by
        default here, unlike there: the decoder is given the condition, and
        free information in z lets the code carry it as well, so rows drawn
        for one class may drift towards others (on load_digits, 0.997 of
        the rows drawn for a class were judged that class by an SVC with
        0.5 at ``latent_dim=8``, against 1.0 without:
        benchmarks/cvae_free_bits.py).

    condition_dropout : float, default=0.25
        Share of training rows, drawn anew at each step, that the encoder
        also reads with a "no condition" input, learning to give from x
        alone the encoding it gives with the condition (the KL between the
        two is minimised): what ``transform(X)`` without y returns. The
        decoder is trained on the encodings with the condition only, so
        this term is not part of ``loss_curve_``; 0 leaves ``transform(X)``
        without y untrained. A step that draws one row alone skips it (an
        encoder with ``BatchNorm1d`` cannot read one row in training).

    ${denoising_parameters}

    ${training_parameters}

    Attributes
    ----------
    ${training_attributes}

    ${vae_loss_attributes}

    ${stopping_attributes}

    ${vae_attributes}

    classes_ : ndarray of shape (n_classes,) or None
        The class labels, sorted, when y holds labels; None for covariates.

    class_count_ : ndarray of shape (n_classes,) or None
        Training rows of each class: those of ``fit``'s y (with
        ``warm_start`` too), plus those of each ``partial_fit`` call since.

    class_prior_ : ndarray of shape (n_classes,) or None
        ``class_count_`` as frequencies: what ``sample`` draws labels from
        when it is given none.

    n_condition_features_ : int
        Columns that encode the condition for the networks: the classes, or
        the covariates, plus one that flags a missing condition.

    ${column_attributes}

    ${input_attributes}

    See Also
    --------
    VAETransformer : The unconditional model.

    References
    ----------
    Sohn, K., Lee, H. & Yan, X. (2015). Learning Structured Output
    Representation using Deep Conditional Generative Models. NeurIPS.

    Examples
    --------
    >>> from sklearn.datasets import load_digits
    >>> from skvae import ConditionalVAETransformer
    >>> X, y = load_digits(return_X_y=True)
    >>> cvae = ConditionalVAETransformer(4, likelihood="bernoulli", max_iter=5, random_state=0)
    >>> cvae.fit(X / 16, y).transform(X[:3] / 16).shape
    (3, 4)
    >>> cvae.sample(6, y=[4, 4, 4, 7, 7, 7], random_state=0).shape  # only 4s and 7s
    (6, 64)
    >>> cvae.classes_[:3]
    array([0, 1, 2])
    """

    # N(0, I), not a mixture of the codes: the codes keep some of their classes' styles, and
    # a code drawn from one class's region decoded with another label blurs the label. On real
    # 28x28 digits (benchmarks/family_images.py --only conditional --seeds 3) rows drawn for
    # class k were labelled k 97.8% of the time from a first version of the mixture
    # (scikit-learn's GaussianMixture; worst class 93.8%) against 99.0% (96.5%) from N(0, I).
    _samples_from_code_mixture = False
    _fitted_state = (*VAETransformer._fitted_state, "_conditions")

    _parameter_constraints: dict = {
        **VAETransformer._parameter_constraints,
        "condition_dropout": [Interval(Real, 0, 1, closed="left")],
    }

    def __init__(
        self,
        latent_dim=2,
        *,
        hidden_layer_sizes="auto",
        activation="relu",
        image_shape=None,
        conv_channels=(8, 8),
        encoder=None,
        decoder=None,
        likelihood="auto",
        handle_unknown="error",
        noise_variance="auto",
        beta=1.0,
        kl_warmup=10,
        free_bits=0.0,
        condition_dropout=0.25,
        corruption=None,
        corruption_level=0.2,
        batch_size="auto",
        learning_rate_init=1e-3,
        max_iter=200,
        tol=1e-4,
        n_iter_no_change=10,
        early_stopping="auto",
        validation_fraction=0.1,
        shuffle=True,
        warm_start=False,
        random_state=None,
        verbose=0,
        device="cpu",
        **module_params,
    ):
        super().__init__(
            latent_dim, hidden_layer_sizes=hidden_layer_sizes, activation=activation,
            image_shape=image_shape, conv_channels=conv_channels, encoder=encoder, decoder=decoder,
            likelihood=likelihood, handle_unknown=handle_unknown, noise_variance=noise_variance,
            beta=beta, kl_warmup=kl_warmup,
            free_bits=free_bits, corruption=corruption, corruption_level=corruption_level,
            batch_size=batch_size, learning_rate_init=learning_rate_init, max_iter=max_iter, tol=tol,
            n_iter_no_change=n_iter_no_change, early_stopping=early_stopping,
            validation_fraction=validation_fraction, shuffle=shuffle, warm_start=warm_start,
            random_state=random_state, verbose=verbose, device=device, **module_params,
        )
        self.condition_dropout = condition_dropout

    @_fit_context(prefer_skip_nested_validation=True)
    def fit(self, X, y, sample_weight=None):
        """Fit the model to X under the conditions y.

        Parameters
        ----------
        X : array-like of shape (n_samples, n_features)
            Training data.

        y : array-like of shape (n_samples,) or (n_samples, n_covariates)
            The condition of each row: class labels (as ``LabelEncoder``
            reads them, but for fractional numbers, which pass as a pandas
            Categorical or strings, and labels of mixed types), or a 2-D
            array of numeric covariates. A 1-D y of fractional numbers is
            refused with a ValueError (a covariate passed 1-D: pass it as
            one column, ``y.reshape(-1, 1)``); whole numbers in more distinct
            labels than half the rows are warned of, as scikit-learn's
            classifiers warn. Covariates given as a DataFrame keep their
            column names: later calls refuse other names or another order,
            and warn where covariates come with names on one side only
            (read by position), as scikit-learn warns of X's.

        ${sample_weight_parameter}
            ``class_prior_`` is not weighted either.

        Returns
        -------
        self : object
            The fitted estimator.
        """
        return self._fit(X, incremental=False, y=y, sample_weight=sample_weight)

    @_fit_context(prefer_skip_nested_validation=True)
    def partial_fit(self, X, y, classes=None, sample_weight=None):
        """Train for one epoch over X under conditions y, initialising the model on the first call.

        Parameters
        ----------
        X : array-like of shape (n_samples, n_features)
            Training data.

        y : array-like of shape (n_samples,) or (n_samples, n_covariates)
            The condition of each row. Covariates are standardised by the
            first call's y and keep that scaling, as X's columns do (see
            ``VAETransformer.partial_fit``): a later y far outside it draws
            a warning.

        classes : array-like of shape (n_classes,), default=None
            Every label y may take, on the first call (as for
            ``SGDClassifier.partial_fit``); None takes the labels of the
            first call's y. Later calls refuse labels outside them, and
            other ``classes``. Covariates (a 2-D y) take none.

        ${sample_weight_parameter}
            Each call's weights weigh its rows against each other.

        Returns
        -------
        self : object
            The updated estimator.
        """
        return self._fit(X, incremental=True, y=y, sample_weight=sample_weight, classes=classes)

    def transform(self, X, y=None):
        """Encode X: the mean of q(z | x, y), or of q(z | x) with no condition.

        Parameters
        ----------
        X : array-like of shape (n_samples, n_features)
            Data to encode.

        y : array-like of shape (n_samples,) or (n_samples, n_covariates), or a single label, default=None
            The rows' conditions, if known. Without y the encoder reads the
            "no condition" input it was trained with (see the class
            docstring); ``fit_transform(X, y)`` and a ``Pipeline`` use that.

        Returns
        -------
        X_new : ndarray of shape (n_samples, latent_dim)
            The codes, float32 for float32 input and float64 otherwise.
        """
        return self._transform(X, y)

    def inverse_transform(self, X, y=None):
        """Decode codes under a condition: the mean of p(x | z, y).

        Parameters
        ----------
        X : array-like of shape (n_samples, latent_dim)
            Codes.

        y : array-like of shape (n_samples,) or (n_samples, n_covariates), or a single label, default=None
            The condition to decode under. Without y (class labels only):
            the mean over the classes, weighted by their training
            frequencies, ``sum_k prior_k E[x | z, k]``. A DataFrame
            output carries the index of X (codes as a DataFrame), else of a
            pandas y of one condition per row.

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
        if y is not None:
            return self._inverse_transform(X, y)
        self._require_labels("inverse_transform")
        Z = self._checked_codes(X)
        model, device = self._inference_model()
        labels, weights = self._class_mixture()

        def decode(z, condition, n_rows, first_row):
            return model.decoded_mixture(z.float(), labels.to(z.device), weights)

        # As _decoded writes them: in the output's dtype, chunk by chunk.
        out = map_rows(Z, decode, len(self._schema.columns), device=device, out_dtype=self._decoded_dtype(Z), saturate=True,
                       work_per_row=self._multiply_adds(model))
        return self._schema.restore(out, index=X.index if isinstance(X, pd.DataFrame) else None, dtype=Z.dtype)

    def score_samples(self, X, y=None, *, n_importance=1):
        """Lower bound on log p(x | y), or on log p(x) without y (class labels only), in nats.

        Parameters
        ----------
        X : array-like of shape (n_samples, n_features)
            Data to score.

        y : array-like of shape (n_samples,) or (n_samples, n_covariates), or a single label, default=None
            The rows' conditions. Without y: ``log sum_k prior_k
            exp(bound(x | k))``, a bound on log p(x) that marginalises the
            class with its training frequencies.

        n_importance : int, default=1
            Importance samples per bound: 1 gives the ELBO, more the
            tighter IWAE bound (see ``VAETransformer.score_samples``).
            Keyword-only, so that ``score_samples(X, 8)`` is never read as
            K=8 by one model and the label 8 by another.

        Returns
        -------
        scores : ndarray of shape (n_samples,)
            The bound for each row; higher is better. float32 for float32
            X, float64 otherwise.
        """
        _check_n_importance(n_importance)
        if y is not None:
            return self._score_samples(X, y, n_importance=int(n_importance))
        self._require_labels("score_samples")
        # A class partial_fit listed but no row held yet has prior 0: it adds nothing to the sum.
        held = np.flatnonzero(self.class_prior_ > 0)
        by_class = self._scores_by_class(X, held, int(n_importance))
        # Each row's sum over its classes along a contiguous row of its own: the same bits alone as
        # among other rows. (Down the columns of a classes x rows array, NumPy summed one row's
        # classes pairwise and many rows' row by row: a row alone differed by an ulp from 9 classes.)
        scores = logsumexp(by_class + np.log(self.class_prior_[held]), axis=1)
        return scores.astype(by_class.dtype, copy=False)

    def score(self, X, y=None):
        """Mean of ``score_samples(X, y)``; ``GridSearchCV`` passes y.

        A label its fit never saw is refused, so search over a label model
        with ``cv=StratifiedKFold(...)``: an integer ``cv`` splits a
        transformer's rows with ``KFold``, and rows sorted by class leave a
        training fold without a class (each such fold then scores NaN).

        Parameters
        ----------
        X : array-like of shape (n_samples, n_features)
            Data to score.

        y : array-like, default=None
            The rows' conditions.

        Returns
        -------
        score : float
        """
        return float(np.mean(self.score_samples(X, y), dtype=np.float64))  # float32 scores would overflow the sum

    def sample(self, n_samples=1, random_state=None, *, y=None, from_likelihood=True):
        """Generate rows under given conditions: decode prior draws z ~ N(0, I) with y.

        Not from a mixture fitted to the training codes, as
        ``VAETransformer.sample`` draws: the codes keep some of their
        classes' styles, and such a code decoded with another label blurs
        it (on real 28x28 digits, 97.8% of the rows drawn for a class were
        labelled so with a first version of the mixture, against 99.0%
        from N(0, I)).

        Parameters
        ----------
        n_samples : int, default=1
            Number of rows to generate.

        random_state : int, RandomState instance or None, default=None
            Seeds the draws (the labels' own seed first, then codes);
            ``None`` takes fresh OS entropy; the estimator's own
            ``random_state`` is not read here (as in ``KernelDensity.sample``).
            Second, as in every skvae estimator's
            ``sample``; ``y`` is keyword-only, so that a seed given by
            position is never read as a label.

        y : label, array-like of shape (n_samples,) or (n_samples, n_covariates), default=None
            The condition: one label for every row, or one per row. None
            (class labels only) draws each row's label from the training
            frequencies ``class_prior_``, and does not return them: to know
            each row's class, draw the labels yourself
            (``rng.choice(classes_, n_samples, p=class_prior_)``) and pass
            them. With ``from_likelihood=True``, a
            labelled row's holes are drawn at the rate its class had them
            at fit (covariates: each column's overall rate). A DataFrame
            output carries the index of a pandas y of one condition per
            row, so that the rows align with their labels.

        ${from_likelihood_parameter}

        Returns
        -------
        ${sample_returns}
        """
        self._check_sample_call(n_samples, from_likelihood)
        # A label given by position: True would seed as 1 (check_random_state's int), a string or a
        # float fail as seeds with words that do not say why. (Other non-seeds get those words.)
        looks_like_labels = isinstance(random_state, (str, bytes, bool, np.bool_, float, np.floating, list, tuple,
                                                      np.ndarray, pd.Series, pd.Index, pd.Categorical))
        if looks_like_labels and y is None:
            # ValueError, as scikit-learn's check_random_state refuses a seed it cannot use.
            given, way = repr(random_state), f"Pass y={random_state!r}."
            if len(given) > 60:  # many labels: what they are, not a cut repr
                given, way = f"<{type(random_state).__name__} of {len(random_state)} labels>", "Pass them as y=."
            raise ValueError(f"random_state={given} is not a seed: sample's second argument is random_state, and the "
                             f"condition is keyword-only. {way}")
        rng = seed_source(random_state)
        if y is None:
            self._require_labels("sample")
            # From a stream of their own, seeded by one draw: the codes that follow are then the
            # same whatever n_samples, as every sample's first rows are.
            labels = np.random.RandomState(draw_seed(rng))
            y = self.classes_[labels.choice(len(self.classes_), size=n_samples, p=self.class_prior_)]
        elif (np.ndim(y) == 2 or (np.ndim(y) == 1 and self.classes_ is not None)) and len(y) not in (1, n_samples):
            # A covariate model's 1-D y is one row given flat: _conditions says how to give it.
            raise ValueError(
                f"y holds {len(np.asarray(y))} conditions for n_samples={n_samples}; give one, "
                "or one per row."
            )
        return self._sample(n_samples, rng, y=y, from_likelihood=from_likelihood)

    # ------------------------------------------------------------------ hooks

    def _scores_by_class(self, X, held, n_importance):
        """Each row's bound given each class of ``held``, ``(n_rows, len(held))``: what ``score_samples(X, y=k)`` gives.

        X is read once, and a chunk's rows are scored under several classes
        in one batch (row by class), which a row's bound does not depend on:
        one pass per class cost a one-row call ten passes for ten classes. A
        batch holds no more rows than one class's pass would (a chunk's on
        a GPU, whose every batch has that one shape; on a CPU the evaluation
        chunk's, fewer for wide streamed X), the classes split between
        passes where the rows by classes would outgrow it.
        """
        check_is_fitted(self)
        labels = torch.from_numpy(self._conditions.encode(self.classes_[held]))
        self._warn_of_untrained_classes(self._conditions.rows(self.classes_[held]))
        n_classes = len(held)
        chunk_rows = evaluation_chunk_rows(X) or EVAL_CHUNK_ROWS

        def scores(model, batch, n_rows):
            one_shape = _data._pads_to_one_shape(batch.x.device)
            per_pass = max(1, (len(batch.x) if one_shape else max(chunk_rows, len(batch.x))) // n_rows)
            out = []
            for first in range(0, n_classes, per_pass):
                classes = labels[first : first + per_pass].to(batch.x.device)
                n_pairs = len(classes) * n_rows
                length = len(batch.x) if one_shape else -(-n_pairs // EVAL_ROW_MULTIPLE) * EVAL_ROW_MULTIPLE
                pairs = Batch(*(None if rows is None else zero_padded(torch.cat([rows[:n_rows]] * len(classes)), length)
                                for rows in (batch.x, batch.target, batch.mask)),
                              condition=zero_padded(classes.repeat_interleave(n_rows, dim=0), length))
                row_scores = self._row_score(model, pairs, n_pairs, n_importance=n_importance)
                out.append(row_scores[:n_pairs].reshape(len(classes), n_rows))
            return torch.cat(out).T

        return self._map_batches(
            X, scores, n_classes, targets=True, saturate=True, rows_per_row=n_classes,
            draws_per_row=n_classes * self.network_.score_draws(n_importance=n_importance),
        )

    def _training_conditions(self, y, fresh_start, incremental, n_rows, classes=None):
        if y is None:
            raise ValueError(
                f"{type(self).__name__} requires y to be passed, but the target y is None. y is "
                "each row's condition: class labels, or a 2-D array of covariates."
            )
        if fresh_start:
            self._conditions = Conditions.fit(y, classes)
            self.n_condition_features_ = self._conditions.width
            self.class_count_ = None
        elif classes is not None:
            self._conditions.check_same_classes(classes)
        columns = self._checked_columns(y, n_rows)
        if not fresh_start and not self._conditions.categorical:
            _check_later_covariates(columns, "partial_fit" if incremental else "fit (warm_start=True)")
        if self._conditions.categorical:
            counts = columns[:, :-1].sum(0, dtype=np.float64).astype(np.int64)
            # Which classes any fit of this network trained on: a warm_start fit's counts are its own y's.
            before = None if fresh_start or self.class_count_ is None else self._classes_trained()
            self._trained_classes = counts > 0 if before is None else before | (counts > 0)
            # partial_fit adds its block's rows; fit (warm_start too) counts its own y.
            accumulate = incremental and self.class_count_ is not None
            self.class_count_ = self.class_count_ + counts if accumulate else counts
            self.classes_ = self._conditions.classes
            self.class_prior_ = self.class_count_ / self.class_count_.sum()
        else:
            self.classes_ = self.class_prior_ = None
        return columns

    def _validate_fit(self, X, y, incremental, condition_options):
        data = super()._validate_fit(X, y, incremental, condition_options)
        _warn_of_the_condition_in_X(data.X, y)
        if data.fresh:
            # Fixed by the first call, as each column's overall rate is (Schema.missing_rate).
            self._class_hole_rates = (_class_hole_rates(data.values, data.conditions)
                                      if self._conditions.categorical and self._schema.flagged else None)
        return data

    def _row_hole_rates(self, conditions):
        rates = getattr(self, "_class_hole_rates", None)  # None in a model saved before they were kept
        if rates is None or conditions is None:
            return None
        pooled = np.array([column.missing_rate for column in self._schema.columns])
        classes = conditions.labelled()
        return np.where(classes[:, None] >= 0, rates[np.maximum(classes, 0)], pooled)

    def _evaluation_conditions(self, y, n_rows):
        if y is None:
            return self._conditions.missing(n_rows)
        columns = self._checked_columns(y, n_rows, allow_one=True)
        self._warn_of_untrained_classes(columns)
        return columns

    def _warn_of_untrained_classes(self, columns):
        """Warn where y names a class that ``partial_fit``'s ``classes`` listed but no training row held."""
        if getattr(self, "class_count_", None) is None:
            return
        trained = self._classes_trained()
        if trained.all():
            return
        untrained = np.intersect1d(np.unique(columns.labelled()), np.flatnonzero(~trained))
        if untrained.size:
            warn(
                f"{type(self).__name__}: y holds classes that no training row had "
                f"({_shown(self.classes_[untrained][:5])}{', ...' if untrained.size > 5 else ''}; "
                "partial_fit's classes listed them). The model never trained with that condition: "
                "these rows come from its untrained weights. Fit on rows of those classes first.",
                UserWarning,
            )

    def _classes_trained(self):
        """Which classes any fit of the network trained on (a model saved before they were kept: those counted)."""
        trained = getattr(self, "_trained_classes", None)
        return self.class_count_ > 0 if trained is None else trained

    def _classes_of_rows(self, conditions):
        if not self._conditions.categorical:
            return None
        return np.asarray(conditions)[:, :-1].argmax(axis=1)  # the one-hot labels, before the missing flag

    def _checked_columns(self, y, n_rows, allow_one=False):
        """``ConditionRows`` of y for evaluation (``allow_one``: one condition may stand for all rows); an array for fit."""
        columns = self._conditions.rows(y, n_rows if allow_one else None)
        if not allow_one:
            columns = columns[:]
        if columns.shape[0] != n_rows:
            raise ValueError(f"y has {columns.shape[0]} rows, but X has {n_rows}.")
        return columns

    def _loss_weights(self, epochs_elapsed):
        return {**super()._loss_weights(epochs_elapsed), "condition_dropout": self.condition_dropout}

    def _class_mixture(self):
        """Each class's condition (one row each) and its training frequency: what decoding without y averages over."""
        labels = torch.from_numpy(np.vstack([self._conditions.encode([label]) for label in self.classes_]))
        return labels, [float(weight) for weight in self.class_prior_]

    def _serving_graph(self, method):
        check_method(method)
        if method == "transform":
            # The code without a condition, as transform without y.
            return TransformGraph(self.network_, condition=self._conditions.missing(1)[:]).eval()
        if not self._conditions.categorical:
            raise ValueError(
                "inverse_transform without y averages over the classes; a model of covariates has "
                "none, so its decoder cannot be exported without a condition input."
            )
        labels, weights = self._class_mixture()
        return InverseTransformGraph(self.network_, conditions=labels, weights=weights).eval()

    def _require_labels(self, method):
        check_is_fitted(self)
        if not self._conditions.categorical:
            raise ValueError(
                f"{method} without y needs class labels as the condition, whose training "
                "frequencies it can draw from or average over; this model was fitted with "
                "covariates (y was 2-D at fit: a 2-D y is read as numeric covariates). Pass y, or "
                "refit with class labels given 1-D (y.ravel(), df['label'])."
            )

    def __sklearn_tags__(self):
        tags = super().__sklearn_tags__()
        tags.target_tags.required = True
        return tags


def _check_n_importance(n_importance):
    if not isinstance(n_importance, Integral) or isinstance(n_importance, bool) or n_importance < 1:
        raise ValueError(f"n_importance must be a positive integer; got {n_importance!r}.")


def _check_later_covariates(columns, call):
    """Warn when a later call's standardised covariates lie far outside the first call's scaling."""
    if not len(columns):
        return
    # The last column flags "no condition"; values clipped as X's are (DRIFT_CLIP).
    squares = (np.clip(np.asarray(columns[:, :-1], dtype=np.float64), -DRIFT_CLIP, DRIFT_CLIP) ** 2).sum(axis=0)
    rms = drift_rms(squares, np.full(len(squares), len(columns)), len(columns))  # as for X's columns
    worst = int(np.argmax(rms))
    if rms[worst] <= DRIFT_RMS:
        return
    where = f"covariate {worst} has" if len(columns) >= DRIFT_ROWS else "the covariates together have"
    warn_of_drift(call, "y", "scaling", where)


def _warn_of_the_condition_in_X(X, y):
    """Warn where y is a column X still holds (``fit(df, df["species"])``), as an SDV user conditions."""
    name = getattr(y, "name", None)
    if not isinstance(X, pd.DataFrame) or name is None or not isinstance(X.columns, pd.Index):
        return
    if name not in X.columns or isinstance(X[name], pd.DataFrame) or len(X) != len(y):
        return
    if pd.Series(X[name].to_numpy(dtype=object)).equals(pd.Series(np.asarray(y, dtype=object))):
        warn(
            f"y is X's column {name!r}: the encoder reads the class from it too, and sample(n, y=...) "
            f"draws that column from p(x | z) as any other, so drawn rows can contradict their class. "
            f"Fit on X.drop(columns={name!r}) for rows of the class asked for.",
            UserWarning,
        )


def _class_hole_rates(values, conditions):
    """Each class's share of holes in each column of ``values`` (array or sparse), ``conditions`` one-hot labels."""
    onehot = np.asarray(conditions[:, :-1], dtype=np.float64)
    holes = np.zeros((onehot.shape[1], values.shape[1]))
    for start in range(0, values.shape[0], STAT_BLOCK_ROWS):
        block, labels = values[start : start + STAT_BLOCK_ROWS], onehot[start : start + STAT_BLOCK_ROWS]
        if sp.issparse(block):
            holes += np.asarray((sparse_holes(block).T @ labels).T)
        else:
            holes += labels.T @ np.isnan(np.asarray(block)).astype(np.float64)
    counts = onehot.sum(axis=0)[:, None]
    # A class without training rows (listed by partial_fit's classes=) takes the overall rate.
    overall = holes.sum(axis=0) / max(counts.sum(), 1)
    return np.where(counts > 0, holes / np.maximum(counts, 1), overall)
