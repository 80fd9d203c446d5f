"""VAEOutlierDetector: scikit-learn's outlier-detector face over any skvae estimator's score."""

import inspect
import math
import warnings
from numbers import Integral, Real

import numpy as np
import pandas as pd
import scipy.sparse as sp
from sklearn import get_config
from sklearn.base import BaseEstimator, MetaEstimatorMixin, OutlierMixin, _fit_context, clone
from sklearn.pipeline import Pipeline
from sklearn.utils import _safe_indexing
from sklearn.utils._param_validation import HasMethods, Interval, StrOptions
from sklearn.utils.validation import (
    _check_sample_weight,
    _num_samples,
    check_array,
    check_is_fitted,
    get_tags,
    has_fit_parameter,
    indexable,
)

from ._base import BaseAutoencoder
from ._data import sparse_holes
from ._kinds import kind_of_column
from ._pipelines import (
    before_final_model,
    final_model,
    score_samples_of,
    steps_before_final_model,
    weight_key,
)
from ._random import draw_seed, seed_source
from ._sources import block_rows, is_streamed
from ._state_checks import check_number, pickled_state_checked
from ._training import TrainingDiverged
from ._vae import VAETransformer
from ._validation import as_pandas, check_features, check_has_rows
from ._warnings import caught_warnings, warn

# The score of a row that the base estimator's likelihoods cannot take (a 1.2
# in a Bernoulli column, a negative amount in a log-normal one): below any
# score float32 arithmetic gives (at most about 1e38 nats a feature), so that
# the row is flagged; finite, as scikit-learn's metrics need, and far enough
# from float64's limit that arithmetic on scores (x 100, a difference) stays finite.
OUTSIDE_SUPPORT_SCORE = -1e300


def _default_estimator():
    """The base estimator used when ``estimator=None``."""
    estimator = VAETransformer(likelihood="auto")
    if get_config()["enable_metadata_routing"]:
        # Built at fit, where no one could request the weights for it: it asks for them itself.
        estimator.set_fit_request(sample_weight=True)
    return estimator


class VAEOutlierDetector(OutlierMixin, MetaEstimatorMixin, BaseEstimator):
    """Outlier detector on an autoencoder's per-row score.

    Wraps any skvae estimator (or any estimator with ``fit`` and
    ``score_samples``) and gives it scikit-learn's outlier-detector face,
    as ``IsolationForest`` and ``LocalOutlierFactor`` have it: ``predict``
    returns +1 for inliers and -1 for outliers, ``decision_function`` is
    ``score_samples - offset_`` (negative for outliers) and ``score_samples``
    is the base estimator's score, higher for rows more like the training
    data. The score of the default ``VAETransformer`` is its evidence lower
    bound (ELBO), a lower bound on log p(x) in nats; that of an
    ``AutoencoderTransformer`` is minus its reconstruction error. On the
    eight data sets of ``benchmarks/outliers.py`` the ELBO ranked anomalies
    better than the importance-weighted bound and than the autoencoder's
    reconstruction error, in novelty and in outlier detection alike
    (docs/outliers.md).

    The threshold ``offset_`` is set in one of two ways:

    * ``contamination`` a float: the share of the training rows that are
      outliers, as in ``IsolationForest``. The base estimator is fitted on
      all n rows and ``offset_`` lies halfway between the m-th and the
      (m+1)-th lowest of their scores, m = ``contamination`` * n rounded
      to the nearest whole row (a half down), so ``predict`` flags m of
      the training rows (barring ties in the scores): the share closest to
      ``contamination`` that whole rows allow, and never above it when two
      are as close (0.5 flags 3 of 7 rows, never a majority). (The
      ``contamination`` percentile that ``IsolationForest`` takes flags
      ceil(``contamination`` * (n - 1)) rows, up to a row too many: 5 of
      83 rows, 6.0%, for 0.05.)
    * ``contamination="auto"``: a nominal false-alarm rate on new normal
      rows, by split-conformal calibration. A likelihood bound has no
      universal scale (it is in nats per row of *this* data, and training
      rows score higher than new ones, since the network has seen them),
      so no fixed offset, like ``IsolationForest``'s -0.5, can mean the
      same thing on every data set. Instead a share
      ``calibration_fraction`` of the rows, drawn at random, is held out;
      the base estimator is fitted on the rest; and ``offset_`` is the k-th
      lowest score of the held-out rows, k = floor(``false_alarm_rate`` *
      (m + 1)) for m held-out rows. If the training rows are normal and
      new normal rows come from the same distribution, a new normal row is
      then flagged with probability at most ``false_alarm_rate`` (and at
      least ``false_alarm_rate - 1 / (m + 1)``), whatever the model: its
      score is exchangeable with the held-out ones (Vovk et al. 2005).
      Outliers among the training rows pull the threshold down, so that
      fewer rows are flagged: when the training rows are contaminated,
      give their share as a float instead.
      The model is not refitted on all rows: a refitted network scores
      differently, and the guarantee would be lost. With fewer than
      ``1 / false_alarm_rate - 1`` held-out rows, k would be 0 and the
      threshold is the lowest held-out score, whose false-alarm rate is at
      most 1 / (m + 1) instead; a ``UserWarning`` says so where that is
      more than twice ``false_alarm_rate`` (fewer than 49 held-out rows
      for the default 0.01).

    Parameters
    ----------
    estimator : estimator object, default=None
        The base estimator, cloned at fit: any estimator with ``fit(X)``
        and ``score_samples(X)``, higher for more normal rows. ``None``
        means ``VAETransformer(likelihood="auto")``: a VAE with the library's
        defaults that models each column of a DataFrame by its dtype (see
        ``VAETransformer``); on an array, Bernoulli when every value lies in
        [0, 1] and a tenth of them sit at 0 or 1 (an image's pixels; columns
        of only 0 and 1, and the value a ``MinMaxScaler`` puts at each bound
        of every column, do not count unless every column is a flag),
        Gaussian otherwise; its warnings name ``VAETransformer`` (to act on
        its ConvergenceWarning, pass ``estimator=VAETransformer(max_iter=400)``,
        or ``early_stopping=True``). A conditional estimator, which needs y
        to fit, is refused: an outlier detector fits on X alone.

    contamination : "auto" or float, default="auto"
        Share of outliers in the training rows, in (0, 0.5]; or "auto", a
        threshold calibrated for ``false_alarm_rate`` on held-out rows (see
        above).

    false_alarm_rate : float, default=0.01
        With ``contamination="auto"``, the largest share of new normal rows
        that ``predict`` may flag. Ignored otherwise.

    calibration_fraction : float, default=0.2
        With ``contamination="auto"``, the share of the training rows held
        out to set ``offset_`` (at least one row, and at least one row left
        to fit on). For skvae's own base estimators (bare, or the model a
        ``Pipeline`` ends with, in Pipelines within it too), a drawn row is
        fitted instead where the fit needs it: a row holding an observed
        value of a column the rows left to fit on hold none of, and one
        drawn row with a hole in each column whose holes were all drawn, so
        that the model learns to read them (holes are NaN, or a
        ``VAEImputer``'s ``missing_values``; behind other steps, as their
        output holds them). For one reading X itself (bare, or behind no
        other step) also a row holding a level of a string column that none
        of the rows left to fit on holds (when ``handle_unknown`` is
        "error"); and a row the fitted estimator cannot score: for a bare
        one, a value the model fitted on the other rows cannot take (a 1.5
        where ``likelihood="auto"`` chose Bernoulli from values in [0, 1]);
        behind a Pipeline's steps, any row they or the model refuse (a level
        an encoder among them never saw), each tried alone; after which it
        is fitted again. Ignored otherwise.

    n_importance : int or None, default=None
        Importance samples per bound, passed to the base estimator's
        ``score_samples`` (the final model's, in a Pipeline; ``VAETransformer`` and
        the estimators built on it, such as ``HierarchicalVAETransformer``
        and ``VAEImputer``): 1
        gives the ELBO, K > 1 the tighter
        importance-weighted bound (IWAE) on log p(x). ``None`` leaves the
        base estimator's default (the ELBO). A base estimator whose
        ``score_samples`` takes no ``n_importance`` refuses any other
        value. ``offset_`` is set on the fit's bound, so scoring after
        ``set_params(n_importance=...)`` is refused until the next fit.

    random_state : int, RandomState instance or None, default=None
        Draws the held-out rows of ``contamination="auto"``, and the seed of
        a base estimator whose own ``random_state`` is None (and of each
        step of a Pipeline whose ``random_state`` is None), so that a
        fixed ``random_state`` here makes ``fit`` reproducible. A base
        estimator's own ``random_state`` is kept when it is set.

    Attributes
    ----------
    estimator_ : estimator object
        The fitted clone of ``estimator``; with ``contamination="auto"``,
        fitted on the rows that were not held out.

    offset_ : float
        The threshold on ``score_samples``: ``decision_function`` is
        ``score_samples(X) - offset_``, and rows below 0 are outliers.

    n_features_in_ : int
        Number of features seen during :term:`fit`.

    feature_names_in_ : ndarray of shape (`n_features_in_`,)
        Names of features seen during :term:`fit`. Defined only when `X`
        has feature names that are all strings.

    See Also
    --------
    VAETransformer : The variational autoencoder whose ELBO is the default score.
    AutoencoderTransformer : Scores rows by minus their reconstruction error.
    sklearn.ensemble.IsolationForest : Outlier detection with random trees.
    sklearn.neighbors.LocalOutlierFactor : Outlier detection by local density.

    References
    ----------
    Vovk, V., Gammerman, A. & Shafer, G. (2005). Algorithmic Learning in a
    Random World. Springer. (Split-conformal calibration.)

    An, J. & Cho, S. (2015). Variational Autoencoder based Anomaly Detection
    using Reconstruction Probability. SNU Data Mining Center.

    Examples
    --------
    >>> import numpy as np
    >>> from skvae import VAEOutlierDetector, VAETransformer
    >>> rng = np.random.RandomState(0)
    >>> X = rng.normal(size=(400, 2)) @ rng.normal(size=(2, 6)) + 0.1 * rng.normal(size=(400, 6))
    >>> vae = VAETransformer(hidden_layer_sizes=(16,), max_iter=30, random_state=0)
    >>> detector = VAEOutlierDetector(vae, contamination=0.05, random_state=0).fit(X)
    >>> float(np.mean(detector.predict(X) == -1))  # the share of training rows flagged
    0.05
    >>> far = X[:3] + [3, -3, 3, -3, 3, -3]  # rows off the training data's plane
    >>> detector.predict(far)
    array([-1, -1, -1])
    >>> bool(np.all(detector.decision_function(far) < 0))
    True
    """

    _parameter_constraints: dict = {
        "estimator": [None, HasMethods(["fit", "score_samples"])],
        "contamination": [StrOptions({"auto"}), Interval(Real, 0, 0.5, closed="right")],
        "false_alarm_rate": [Interval(Real, 0, 1, closed="neither")],
        "calibration_fraction": [Interval(Real, 0, 1, closed="neither")],
        "n_importance": [None, Interval(Integral, 1, None, closed="left")],
        "random_state": ["random_state"],
    }
    # What load requires of a fitted detector's file.
    _fitted_state = ("estimator_", "offset_")

    def __init__(
        self,
        estimator=None,
        *,
        contamination="auto",
        false_alarm_rate=0.01,
        calibration_fraction=0.2,
        n_importance=None,
        random_state=None,
    ):
        self.estimator = estimator
        self.contamination = contamination
        self.false_alarm_rate = false_alarm_rate
        self.calibration_fraction = calibration_fraction
        self.n_importance = n_importance
        self.random_state = random_state

    def _base(self):
        return _default_estimator() if self.estimator is None else self.estimator

    def set_params(self, **params):
        """Set this detector's parameters, and its base estimator's as ``estimator__<name>``.

        Parameters
        ----------
        **params : dict
            Parameter names and values, as ``BaseEstimator.set_params`` takes them.
            ``estimator__<name>`` needs an ``estimator`` set: the default
            base (``estimator=None``) is built at fit, so it has nothing to set.

        Returns
        -------
        self : VAEOutlierDetector
        """
        nested = sorted(key for key in params if key.startswith("estimator__"))
        if nested and params.get("estimator", self.estimator) is None:
            # scikit-learn's own set_params fails on None with an AttributeError that says neither.
            name = nested[0].removeprefix("estimator__")
            raise ValueError(
                f"{nested[0]} sets a parameter of the base estimator, but estimator=None: the default "
                f'base, VAETransformer(likelihood="auto"), is built at fit. Pass it yourself, e.g. '
                f'estimator=VAETransformer(likelihood="auto", {name}=...), and then set or search '
                f"{nested[0]}; or search over estimator itself."
            )
        return super().set_params(**params)

    # ---------------------------------------------------------------- fitting

    @_fit_context(prefer_skip_nested_validation=False)
    def fit(self, X, y=None, sample_weight=None):
        """Fit the base estimator and set the threshold ``offset_``.

        Parameters
        ----------
        X : array-like, sparse matrix or DataFrame of shape (n_samples, n_features)
            Training rows, in any form the base estimator accepts (mixed
            DataFrames and missing values for skvae's estimators).

        y : None
            Ignored; present for API consistency.

        sample_weight : array-like of shape (n_samples,), default=None
            Weights of the rows, non-negative, passed with the rows the
            base estimator fits on to its ``fit`` (the final model's, in a
            Pipeline), which must take ``sample_weight`` (every skvae
            estimator does; see ``VAETransformer.fit``). With metadata
            routing on, a base you pass gets them as it requests
            (``set_fit_request(sample_weight=True)``); the default base
            takes them. ``offset_`` is set from the scores unweighted, as
            ``IsolationForest`` sets its own.

        Returns
        -------
        self : object
            The fitted detector.
        """
        base = self._base()
        # A Pipeline's tags do not say that the model it ends with needs y.
        needs_y = final_model(base)
        needs_y = needs_y if hasattr(needs_y, "fit") else base  # not "passthrough"
        if get_tags(needs_y).target_tags.required:
            raise ValueError(
                f"{type(needs_y).__name__} needs y to fit, but an outlier detector fits on X "
                "alone. Use an unconditional estimator (VAETransformer), or score "
                "log p(x | y) with the conditional model's own score_samples(X, y)."
            )
        self._check_score_options(base)
        X = _collected(X)
        shape = getattr(X, "shape", None)
        if shape is None or len(shape) != 2:
            # Its errors name the detector and X as given, not the base estimator and the rows it fits.
            check_array(X, accept_sparse=True, dtype=None, ensure_all_finite=False, estimator=self)
        check_has_rows(X, self)
        weights = self._checked_weights(sample_weight, X, base)
        rng = seed_source(self.random_state)  # None: OS entropy, never numpy's global RNG
        estimator = clone(base)
        # Every unset random_state, a Pipeline's steps' too (as scikit-learn's ensembles seed theirs).
        unset = sorted(name for name, value in estimator.get_params(deep=True).items()
                       if (name == "random_state" or name.endswith("__random_state")) and value is None)
        if unset:
            estimator.set_params(**{name: draw_seed(rng) for name in unset})
        try:
            if self.contamination == "auto":
                estimator, offset = self._fit_calibrated(estimator, X, rng, weights)
            else:
                offset = self._fit_contaminated(estimator, X, weights)
        except TrainingDiverged as error:
            # Its advice in the names set_params takes here (the default base is passed as itself;
            # of several steps with a learning rate, which diverged is not known: all are named).
            rates = [f"estimator__{name}" for name in estimator.get_params(deep=True)
                     if name == "learning_rate_init" or name.endswith("__learning_rate_init")]
            if self.estimator is None or not rates:
                raise
            raise error.routed(rates) from None
        # Attributes only once everything succeeded: a failed fit leaves the detector as it was.
        self.estimator_, self.offset_ = estimator, offset
        self._calibrated_n_importance = self.n_importance
        self._copy_input_attributes()
        return self

    def _checked_weights(self, sample_weight, X, base):
        """``sample_weight`` checked against X's rows, float64, None for none; refused where the base's fit takes none."""
        if sample_weight is None:
            return None
        model = final_model(base)
        if not has_fit_parameter(model, "sample_weight"):
            name = model if isinstance(model, str) else type(model).__name__
            raise ValueError(
                f"sample_weight goes to the base estimator's fit, and {name}'s fit takes none. Give a "
                "base estimator that takes it (every skvae estimator does), or leave sample_weight out."
            )
        return _check_sample_weight(sample_weight, X, dtype=np.float64, ensure_non_negative=True)

    def _fit_base(self, estimator, X, weights, rows=None):
        """``estimator.fit`` on X's ``rows`` (None: all), with their weights where there are any."""
        X = X if rows is None else _safe_indexing(X, rows)
        if weights is None:
            return estimator.fit(X)
        if rows is not None:
            weights = weights[rows]
            if not weights.any():
                raise ValueError(
                    f'sample_weight is 0 on every one of the {len(rows)} rows the base estimator fits on: '
                    'contamination="auto" holds the others out to calibrate offset_ (calibration_fraction='
                    f"{self.calibration_fraction}). Give more rows weight, pass the detector another "
                    "random_state, or give a float contamination, which fits on every row."
                )
        if not get_config()["enable_metadata_routing"]:
            return estimator.fit(X, **{weight_key(estimator): weights})
        # Routed by the base's own request, as a Pipeline routes it to its steps.
        if isinstance(estimator, Pipeline):
            return estimator.fit(X, sample_weight=weights)
        requested = estimator.get_metadata_routing().fit.requests.get("sample_weight")
        if requested is None:
            raise ValueError(
                f"sample_weight is passed and metadata routing is on, but {type(estimator).__name__} has not "
                "requested it: set_fit_request(sample_weight=True) to fit it weighted, False to fit it without."
            )
        return estimator.fit(X, sample_weight=weights) if requested else estimator.fit(X)

    def _fit_calibrated(self, estimator, X, rng, weights=None):
        """Fit on all rows but a held-out share; the fitted estimator and the split-conformal threshold on those."""
        X = _rows_by_position(X)
        n_samples = _num_samples(X)
        if n_samples < 2:
            raise ValueError(
                f'contamination="auto" holds out rows to calibrate offset_ and needs at '
                f"least 2 samples; got {n_samples} sample{'' if n_samples == 1 else 's'}. Give more rows, or a float "
                "contamination."
            )
        n_held_out = n_drawn = min(max(1, round(self.calibration_fraction * n_samples)), n_samples - 1)
        order = rng.permutation(n_samples)
        fit_rows, held_out = np.sort(order[n_held_out:]), np.sort(order[:n_held_out])
        # A column whose only observed values the held-out rows hold would leave the fit nothing
        # to learn it from (any skvae model refuses that), and one whose holes they all hold a
        # model that cannot read its holes; a string level only they hold would be unknown to a
        # model that refuses unknown levels, and scoring them would fail (for some random_state).
        # Such rows are fitted instead, for a skvae model, bare or the one a Pipeline ends with (a
        # VAEImputer's missing_values placeholders are its holes), judged on what it reads: behind
        # other steps, their output (a StandardScaler keeps the holes, a SimpleImputer fills them,
        # and judged on X, a SimpleImputer's holed table lost every calibration row to them).
        model = final_model(estimator)
        reads_x = not steps_before_final_model(estimator)  # bare, or behind Pipelines of one step
        if hasattr(model, "handle_unknown"):  # skvae's models
            readable = as_pandas(X)  # a polars frame as the model reads it, once for both
            holed = model._marked if hasattr(model, "_marked") else (lambda rows: rows)  # placeholders as NaN
            marked = holed(readable)
            unseen = _rows_the_fit_needs(marked, fit_rows, held_out)
            if unseen.any() and not reads_x:
                # Judged again on the other steps' output, only where X's own holes (a VAEImputer's
                # placeholders among them) ask for rows: fitted on a copy of X (a step with copy=False
                # writes into its input), read as the model reads it (a polars output raised).
                read = _safe_indexing(readable, np.arange(n_samples))
                for steps in steps_before_final_model(estimator):
                    read = clone(steps).fit_transform(read)
                unseen = _rows_the_fit_needs(holed(as_pandas(read)), fit_rows, held_out)
            # Behind other steps, levels are judged by what the fitted steps and model refuse (below):
            # an encoder among them, or a level they make or drop, tells.
            levels = np.zeros_like(unseen)
            if reads_x and model.handle_unknown == "error":
                levels = _unseen_levels(marked, fit_rows, held_out, getattr(model, "likelihood", None))
            if (unseen | levels).all():
                # Categories are named only where a level made it refuse. Not handle_unknown="ignore":
                # held-out rows would then score without the column and the fitted ones with it, and an
                # identifier's 300 levels had fit_predict flag 76% of the rows at false_alarm_rate 0.01.
                category, advice = ("a category the other rows lack, or ", (
                    ". A column whose levels seldom recur (an identifier) cannot be calibrated on: drop it "
                    "(handle_unknown='ignore' would score the held-out rows without it and the fitted rows "
                    "with it, and flag most of the fitted rows)")) if levels.any() else ("", "")
                raise ValueError(
                    f'contamination="auto" found no held-out row to calibrate on: each holds {category}a column\'s '
                    "only observed values or only holes, and is fitted instead. Give more rows, or a float "
                    f"contamination{advice}."
                )
            unseen |= levels
            fit_rows, held_out = np.sort(np.r_[fit_rows, held_out[unseen]]), held_out[~unseen]
            n_held_out = len(held_out)
        n_lacked = n_drawn - n_held_out  # drawn rows fitted for what the other rows lack
        unfitted = clone(estimator)
        self._fit_base(estimator, X, weights, fit_rows)
        while True:
            try:
                scores = self._scores(estimator, _safe_indexing(X, held_out))
                break
            except ValueError as error:
                # A held-out value the likelihoods that "auto" chose from the other rows cannot take
                # (a 1.5 beside values in [0, 1], a negative amount): such rows are fitted too, so
                # that the model takes every training value, as a float contamination's fit on all
                # rows does. (Scored -1e300, one became the threshold, below which no row could
                # fall.) A refit can choose again for another column: each round fits one row more.
                # Behind a Pipeline's steps, a row they or the model refuse: a level an encoder
                # among them never saw (7 of 10 seeds failed), a string column passed through, a
                # hole filled with the string "missing".
                held = _safe_indexing(X, held_out)
                fitted = final_model(estimator)  # this round's
                reads_held = reads_x and hasattr(fitted, "_rows_outside_support")  # a skvae model reading X
                behind_steps = isinstance(estimator, Pipeline) and not reads_held
                if reads_held:
                    outside = fitted._rows_outside_support(held)
                elif behind_steps:
                    outside = self._rows_refused(estimator, held)
                else:
                    outside = None
                if outside is None or not outside.any():
                    raise
                if outside.all() and behind_steps:
                    raise ValueError(
                        f"{error} (VAEOutlierDetector: the fitted Pipeline refused every held-out row of "
                        'contamination="auto"\'s calibration, each scored alone; rows it refuses are fitted '
                        "instead, which left none to calibrate on. Give steps and a model that take what they "
                        "never saw (handle_unknown='ignore'; a likelihood that takes every value), more rows, "
                        "or a float contamination.)"
                    ) from error
                if outside.all():
                    raise ValueError(
                        'contamination="auto" found no held-out row to calibrate on: each holds a value '
                        "the model fitted on the other rows cannot take, and is fitted instead. Give more "
                        "rows, a float contamination, or the base estimator a likelihood that takes every "
                        "value (and values within float32's range). The first refusal, of the held-out rows "
                        f"scored together (its row numbers count them alone): {error}"
                    ) from error
                fit_rows, held_out = np.sort(np.r_[fit_rows, held_out[outside]]), held_out[~outside]
                n_held_out = len(held_out)
                estimator = clone(unfitted)
                self._fit_base(estimator, X, weights, fit_rows)
        scores = np.sort(scores)
        k = max(1, math.floor(self.false_alarm_rate * (n_held_out + 1)))
        # Warned of where the rate promised is more than twice the one asked: 80 rows for 1% (1.2%)
        # is the guide's own example, and not worth a warning.
        if 2 * self.false_alarm_rate * (n_held_out + 1) < 1:
            self._warn_of_few_held_out_rows(n_held_out, n_drawn, n_lacked)
        return estimator, self._checked_offset(float(scores[k - 1]), scores, "held-out")

    def _rows_refused(self, estimator, X):
        """Which rows of X the fitted Pipeline refuses to score (a row's score is its own).

        Halves of a refused block are tried in turn, and a block of a few rows row by row: one row
        at a time cost 6.7 s for 2,000 held-out rows, ten refused, where the fit took 0.5; halves
        down to single rows, twice one row at a time's calls where nearly every row is refused.
        """
        refused = np.zeros(_num_samples(X), dtype=bool)

        def search(rows):
            try:
                self._scores(estimator, _safe_indexing(X, rows))
            except ValueError:
                if len(rows) == 1:
                    refused[rows] = True
                elif len(rows) <= 8:
                    for row in rows:
                        search(np.array([row]))
                else:
                    search(rows[: len(rows) // 2])
                    search(rows[len(rows) // 2 :])

        with caught_warnings():
            warnings.simplefilter("ignore")
            search(np.arange(len(refused)))
        return refused

    def _warn_of_few_held_out_rows(self, n_held_out, n_drawn, n_lacked):
        """Warn that ``n_held_out`` rows cannot calibrate ``false_alarm_rate``: the bound is 1 / (m + 1), not it.

        ``n_lacked`` of the ``n_drawn`` rows were fitted for what the other rows lack, the rest of those
        fitted for values the model fitted without them could not take.
        """
        # Rows holding a level or a column's only values are fitted instead: on a table of rare
        # levels (83 rows, a column of 77) 1 to 4 of 17 drawn rows were left, and 2% to 70% of the
        # training rows were flagged for random_state 0 to 4, without a word.
        reasons = [why for count, why in (
            (n_lacked, "a level, a column's only values or holes that the other rows lack"),
            (n_drawn - n_held_out - n_lacked, "a value or level the model fitted on the other rows could not take"),
        ) if count]
        moved = n_drawn - n_held_out
        fitted = (f" ({moved} of the {n_drawn} rows drawn {'was' if moved == 1 else 'were'} fitted instead, "
                  f"holding {'; or '.join(reasons)})") if moved else ""
        needed = math.ceil(1 / self.false_alarm_rate) - 1
        warn(
            f"{type(self).__name__}: offset_ is calibrated on {n_held_out} held-out "
            f"row{'s' if n_held_out != 1 else ''}{fitted}, too few for false_alarm_rate={self.false_alarm_rate}: "
            f"the threshold is their lowest score, and a new normal row is flagged with probability up to "
            f"1 / {n_held_out + 1} = {1 / (n_held_out + 1):.2g}. The rate asked needs at least {needed} "
            "held-out rows (more rows, or a larger calibration_fraction, leaving enough to fit on); else ask "
            f"a false_alarm_rate of at least {1 / (n_held_out + 1):.2g}, or give a float contamination, the "
            "share of training rows to flag.",
            UserWarning,
        )

    def _fit_contaminated(self, estimator, X, weights=None):
        """Fit on all rows; the threshold below the nearest whole number (a half down) of contamination * n."""
        self._fit_base(estimator, X, weights)
        scores = np.sort(self._scores(estimator, X))
        # Python's round() takes a half to the even neighbour: 2 of 25 rows for 0.1, but 4 of 7 for 0.5.
        n_flagged = math.ceil(round(self.contamination * len(scores), 9) - 0.5)
        if n_flagged == 0:
            return float(scores[0])  # ties at the lowest score are inliers
        return self._checked_offset(float((scores[n_flagged - 1] + scores[n_flagged]) / 2), scores, "training")

    def _checked_offset(self, offset, scores, which):
        """``offset``, with a warning where it is the score of rows outside the base estimator's support."""
        if offset <= OUTSIDE_SUPPORT_SCORE:
            n_outside = int(np.sum(scores <= OUTSIDE_SUPPORT_SCORE))
            warn(
                f"{type(self).__name__}: {n_outside} of the {len(scores)} {which} rows score -inf (or "
                f"{OUTSIDE_SUPPORT_SCORE:.3g}) under the base estimator, outside the support of its density "
                "(a compact kernel's, say), and offset_ is that score: no row can fall below it, so none is "
                "flagged. Give the base estimator a density with full support (KernelDensity's gaussian "
                "kernel, a wider bandwidth), or a float contamination, which flags that share of the training "
                "rows.",
                UserWarning,
            )
        return offset

    def _check_score_options(self, base):
        if self.n_importance is None:
            return
        model = final_model(base)
        accepted = inspect.signature(model.score_samples).parameters
        if "n_importance" not in accepted:
            raise ValueError(
                f"n_importance={self.n_importance} was given, but {type(model).__name__}."
                "score_samples takes no n_importance. Leave n_importance=None for this "
                "estimator (VAETransformer and the estimators built on it take it)."
            )

    def _copy_input_attributes(self):
        for name in ("n_features_in_", "feature_names_in_"):
            if hasattr(self.estimator_, name):
                setattr(self, name, getattr(self.estimator_, name))
            elif name in vars(self):
                delattr(self, name)

    def _scores(self, estimator, X):
        """The base estimator's scores of X, float64 whatever X's dtype, as IsolationForest's predictions.

        A base estimator scores float32 X in float32, whose rounding moved
        a row at ``offset_`` across it: narrow floats are scored as float64,
        a memmap or a sparse matrix a block at a time (a row's score does
        not depend on the rows beside it; it is never copied whole). No
        warnings are caught here: ``warnings.catch_warnings`` swaps
        process-wide state, and calls served from threads at once left
        another call's filters and hooks in place for good (every later
        warning of the process swallowed into a list).
        """
        options = {} if self.n_importance is None else {"n_importance": self.n_importance}
        narrow = (np.float16, np.float32)
        X = as_pandas(X) if not isinstance(X, np.ndarray) and not sp.issparse(X) else X
        if isinstance(X, pd.DataFrame):
            widened = {name: np.float64 for name, dtype in X.dtypes.items() if dtype in narrow}
            X = X.astype(widened) if widened else X
        elif getattr(X, "dtype", None) in narrow and not is_streamed(X):
            X = X.astype(np.float64)  # in memory (or a dask array, lazily): one call, its warnings once
        elif getattr(X, "dtype", None) in narrow:
            X = X.tocsr() if sp.issparse(X) else X  # row blocks
            step = block_rows(X.shape[1])
            scores = np.concatenate([
                np.asarray(score_samples_of(estimator, X[start : start + step].astype(np.float64), options),
                           dtype=np.float64)
                for start in range(0, X.shape[0], step)
            ])
            return _ranked(scores, estimator)
        return _ranked(score_samples_of(estimator, X, options), estimator)

    # -------------------------------------------------------------- inference

    def score_samples(self, X):
        """The base estimator's score of each row; lower is more abnormal.

        For the default ``VAETransformer``, the ELBO (or, with
        ``n_importance``, the IWAE bound) in nats: a lower bound on log p(x).
        A row with holes is scored on its observed entries only, which
        mostly raises its score: a row with no observed value reads as
        normal (``IsolationForest`` fitted on rows without holes predicts it
        an inlier too; fitted on rows with them, an outlier). A hole in
        a column that had none at fit (the base estimator warns) moves it
        either way, by up to tens of nats, as the data decide: in tests,
        holes in five of ten independent columns raised rows' scores by 7
        nats (none flagged), and in five of ten columns of correlated,
        low-noise data lowered them by 57 (82% flagged, at
        ``contamination=0.05``). Compare
        rows with the same holes, fit on rows with holes where new rows will
        have them, or fill them first (``VAEImputer``). A row holding a value
        that a skvae base estimator's likelihoods cannot take (a value outside
        [0, 1] in a Bernoulli column, chosen by ``likelihood="auto"`` for an
        array in [0, 1]; a negative value in a log-normal or count column), or
        one beyond the model's float32 arithmetic once encoded (1e39 among
        ordinary values), scores -1e300, below any other row, with a warning:
        it is flagged (so, behind a Pipeline's other steps, does a row they
        pass on that the skvae model it ends with cannot take). So does a
        row another base estimator scores -inf (outside a compact kernel's
        support), flagged unless ``offset_`` is that score (the fit then
        warns); a score of NaN is refused.

        Parameters
        ----------
        X : array-like, sparse matrix or DataFrame of shape (n_samples, n_features)
            Rows to score.

        Returns
        -------
        scores : ndarray of shape (n_samples,)
            The score of each row; higher is more normal.
        """
        check_is_fitted(self)
        X = _collected(X)
        # The detector checks X's width and names itself, so that errors and warnings name it;
        # the base estimator's repeat of the same warning is dropped.
        check_features(self, X, reset=False)
        check_has_rows(X, self)
        calibrated = getattr(self, "_calibrated_n_importance", self.n_importance)
        if _bound_of(self.n_importance, self.estimator_) != _bound_of(calibrated, self.estimator_):
            raise ValueError(
                f"n_importance={self.n_importance}, but offset_ was set on scores with "
                f"n_importance={calibrated}: another bound moves the scores, and with them which "
                f"rows are flagged. Set n_importance={calibrated} again, or refit."
            )
        base = self.estimator_
        X = _named_as_fitted(base, X)  # its names checked above: the base estimator does not warn again
        try:
            return self._scores(base, X)
        except ValueError:
            # Only then look for rows the likelihoods cannot take: looking first cost a one-row
            # call 0.65 of its 3.2 ms (a mixed frame's values read twice).
            outside = _rows_outside_support(base, X)
            if outside is None or not outside.any():
                raise
        scores = np.full(len(outside), OUTSIDE_SUPPORT_SCORE)
        inside = np.flatnonzero(~outside)
        if inside.size:  # a row's score does not depend on the rows beside it
            rows = _rows_by_position(X)
            # A memmap's or a sparse matrix's kept rows a block at a time: taken at once, they were a
            # copy of all but one row, widened whole to float64 (3.4 times a float32 X).
            step = block_rows(X.shape[1]) if is_streamed(rows) else inside.size
            for start in range(0, inside.size, step):
                kept = inside[start : start + step]
                scores[kept] = self._scores(base, _safe_indexing(rows, kept))
        warn(
            f"{type(self).__name__}: {int(outside.sum())} of {len(outside)} rows hold values the base "
            f"estimator's likelihoods cannot take (see its column_likelihoods_: e.g. a value outside "
            f"[0, 1] in a Bernoulli column, a negative one in a log-normal or count column) or values "
            f"beyond its float32 arithmetic (e.g. 1e39); they score "
            f"{OUTSIDE_SUPPORT_SCORE:.3g}, below any other row, and are flagged as outliers.",
            UserWarning,
        )
        return scores

    def decision_function(self, X):
        """``score_samples(X) - offset_``: negative for outliers, positive for inliers.

        Parameters
        ----------
        X : array-like, sparse matrix or DataFrame of shape (n_samples, n_features)
            Rows to score.

        Returns
        -------
        scores : ndarray of shape (n_samples,)
            The shifted score of each row.
        """
        return self.score_samples(X) - self.offset_

    def predict(self, X):
        """Whether each row is an inlier (+1) or an outlier (-1).

        Parameters
        ----------
        X : array-like, sparse matrix or DataFrame of shape (n_samples, n_features)
            Rows to classify.

        Returns
        -------
        is_inlier : ndarray of shape (n_samples,)
            +1 where ``decision_function(X) >= 0``, -1 elsewhere.
        """
        return np.where(self.decision_function(X) < 0, -1, 1)

    def __setstate__(self, state):
        with pickled_state_checked(self):
            self._check_fitted_state(state)
        super().__setstate__(state)

    @staticmethod
    def _check_fitted_state(state):
        """Refuse a saved or pickled state no fit writes (``DamagedState``), at load and unpickling alike."""
        if "offset_" in state:  # a NaN threshold called every row an inlier, an infinite one every row an outlier
            check_number(state["offset_"], "offset_", finite=True)

    def save(self, path):
        """Write the fitted detector to ``path``, in skvae's file format, which runs no code when read.

        The file holds the threshold and the fitted skvae base estimator
        (``estimator_``) whole; ``skvae.load(path)`` reads it back. A base
        estimator from outside skvae (``PCA``, say) cannot go in this
        format: save such a detector with joblib or pickle.

        Parameters
        ----------
        path : str, path-like or file object
            Where to write; by convention ending in ``.skvae``. A file
            object must be open for writing bytes (mode ``"wb"``).
        """
        from ._persistence import save

        check_is_fitted(self)
        save(self, path)

    # ------------------------------------------------------------ sklearn API

    def __sklearn_tags__(self):
        tags = super().__sklearn_tags__()
        base = get_tags(self._base())
        tags.input_tags.allow_nan = base.input_tags.allow_nan
        # A base's tag speaks of its fit; the detector scores with it too, which skvae's own models do
        # for any X they fit (PCA fits sparse X but refuses it in score_samples).
        tags.input_tags.sparse = base.input_tags.sparse and isinstance(self._base(), BaseAutoencoder)
        tags.input_tags.categorical = base.input_tags.categorical
        tags.input_tags.string = base.input_tags.string
        tags.non_deterministic = base.non_deterministic
        return tags


def _named_as_fitted(estimator, X):
    """X as the fitted ``estimator`` takes it without a word about feature names, which the detector has checked.

    An array for a model fitted on a frame becomes a frame with the fitted
    names (as a skvae model and a ColumnTransformer read it), and a frame of
    numpy numbers with feature names (string labels, which scikit-learn
    warns of) for a model fitted without them its values. Other input
    comes back as it is.
    """
    names = getattr(estimator, "feature_names_in_", None)
    if names is not None and isinstance(X, np.ndarray) and X.ndim == 2 and X.shape[1] == len(names):
        return pd.DataFrame(X, columns=names, copy=False)
    if (names is None and isinstance(X, pd.DataFrame) and all(isinstance(name, str) for name in X.columns)
            and all(isinstance(d, np.dtype) and d.kind in "biuf" for d in X.dtypes)):
        return X.to_numpy()
    return X


def _collected(X):
    """X, or a lazy frame's rows (a polars LazyFrame has no shape until collected, which the checks read)."""
    return as_pandas(X) if getattr(X, "shape", None) is None else X


def _ranked(scores, estimator):
    """A base estimator's scores as float64 the detector can rank.

    -inf, a row outside the support of the base's density (a compact
    kernel's), is ``OUTSIDE_SUPPORT_SCORE`` as skvae's own rows outside
    their likelihoods' support are: -inf - -inf made NaN decisions, which
    ``predict`` called inliers. NaN cannot be ranked at all.
    """
    scores = np.asarray(scores, dtype=np.float64)
    unranked = np.isnan(scores)
    if unranked.any():
        raise ValueError(
            f"{type(estimator).__name__}.score_samples gave NaN for {int(unranked.sum())} of {len(scores)} rows "
            f"(the first: row {int(np.flatnonzero(unranked)[0])}), which no threshold can rank. Give a base "
            "estimator whose scores are numbers for every row (check those rows' values)."
        )
    return np.clip(scores, OUTSIDE_SUPPORT_SCORE, -OUTSIDE_SUPPORT_SCORE)


def _rows_the_fit_needs(X, fit_rows, held_out):
    """Which held-out rows the fit needs: those holding a column's only observed values, and one
    holding a hole in each column whose holes are all held out (the model could not read them)."""
    if isinstance(X, pd.DataFrame):
        holes = X.isna().to_numpy()
    elif isinstance(X, (np.ndarray, list, tuple)) and np.ndim(X) == 2:
        holes = pd.isna(np.asarray(X, dtype=None if isinstance(X, np.ndarray) else object))
    elif sp.issparse(X):  # holes are stored NaN entries; implicit zeros are observed values
        holes = sparse_holes(X)
        fitted, held = holes[fit_rows], holes[held_out]
        fitted_holes, held_holes = (np.asarray(part.sum(axis=0)).ravel() for part in (fitted, held))
        all_holes = fitted_holes == len(fit_rows)
        needed = np.asarray(held[:, all_holes].sum(axis=1)).ravel() < all_holes.sum()
        held = held.tocsc()
        for j in np.flatnonzero((held_holes > 0) & (fitted_holes == 0)):
            needed[held.indices[held.indptr[j]]] = True  # the first held-out row with a hole there
        return needed
    elif hasattr(X, "shape") and len(X.shape) == 2:  # a dask array: its holes, computed
        holes = np.asarray(np.isnan(X))
    else:
        return np.zeros(len(held_out), dtype=bool)
    fitted, held = holes[fit_rows], holes[held_out]
    needed = (~held[:, fitted.all(axis=0)]).any(axis=1)
    for j in np.flatnonzero(held.any(axis=0) & ~fitted.any(axis=0)):
        needed[np.flatnonzero(held[:, j])[0]] = True
    return needed


def _bound_of(n_importance, base):
    """``n_importance`` as ``base.score_samples`` (a Pipeline's final model's) reads it: None is its default (1 for the ELBO)."""
    if n_importance is not None:
        return n_importance
    parameter = inspect.signature(final_model(base).score_samples).parameters.get("n_importance")
    return None if parameter is None or parameter.default is inspect.Parameter.empty else parameter.default


def _rows_by_position(X):
    """X in a form whose rows ``_safe_indexing`` takes by position.

    Sparse matrices as CSR (a COO or DIA matrix takes no row indices), array-likes as arrays, other
    libraries' frames (a pyarrow RecordBatch, whose rows scikit-learn takes as dicts; a dask
    DataFrame, which has no rows by position, computed) as pandas ones; an array of rows not yet
    counted (a filtered dask array, of shape (nan, p)) computed.
    """
    if any(isinstance(size, float) and np.isnan(size) for size in getattr(X, "shape", ())):
        X = np.asarray(X)
    (X,) = indexable(as_pandas(X))
    return X


def _unseen_levels(X, fit_rows, held_out, likelihood=None):
    """Which held-out rows hold a level of a categorical column that no fitted row holds."""
    unseen = np.zeros(len(held_out), dtype=bool)
    if not isinstance(X, pd.DataFrame):
        return unseen
    # The likelihood named for every column (a string), or for some (a dict).
    named, every = (likelihood, None) if isinstance(likelihood, dict) else ({}, likelihood)
    for name, column in ((X.columns[j], X.iloc[:, j]) for j in range(X.shape[1])):
        # A pandas Categorical declares its levels, which the model then knows.
        if isinstance(column.dtype, pd.CategoricalDtype):
            continue
        if kind_of_column(column) != "category" and named.get(name, every) != "categorical":
            continue
        held = column.iloc[held_out]
        try:
            seen = set(column.iloc[fit_rows].dropna())
        except TypeError:  # lists or dicts: the base model's fit says what it takes
            continue
        unseen |= (held.notna() & ~held.isin(seen)).to_numpy()
    return unseen


def _rows_outside_support(estimator, X):
    """Which rows of X a fitted skvae model, bare or a Pipeline's final model, cannot take; None for another model."""
    model = final_model(estimator)
    if not hasattr(model, "_rows_outside_support"):
        return None
    return model._rows_outside_support(before_final_model(estimator, X))
