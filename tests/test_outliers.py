"""VAEOutlierDetector: scikit-learn's outlier-detector contract, thresholds, and what it detects."""

import pickle
import re
import warnings
from pathlib import Path

import numpy as np
import pandas as pd
import pytest
from sklearn.base import BaseEstimator, clone
from sklearn.decomposition import PCA
from sklearn.exceptions import ConvergenceWarning, NotFittedError
from sklearn.metrics import roc_auc_score
from sklearn.utils._param_validation import InvalidParameterError
from sklearn.utils.estimator_checks import parametrize_with_checks

from skvae import (
    AutoencoderTransformer,
    ConditionalVAETransformer,
    HierarchicalVAETransformer,
    VAEGANTransformer,
    VAEImputer,
    VAEOutlierDetector,
    VAETransformer,
    VQVAETransformer,
)
from skvae._random import seed_source

# Small networks and few epochs: the checks test the contract, not the fit.
FAST = dict(hidden_layer_sizes=(8,), max_iter=3)
SMALL = dict(hidden_layer_sizes=(32,), max_iter=100)


# check_outliers_train wants a training row flagged. contamination="auto" thresholds at held-out
# rows' scores, so a fit may flag none (a review: 14 of 33 seeds of this 3-epoch VAE, 5 of 33 of the
# autoencoder); the bases' seeds here, drawn from the detector's, flag some. A failure there after a
# change of seeding is this, not a broken contract.
@parametrize_with_checks(
    [
        VAEOutlierDetector(estimator=VAETransformer(**FAST)),
        VAEOutlierDetector(estimator=AutoencoderTransformer(**FAST)),
    ],
    # As scikit-learn marks IsolationForest's: a fit on repeated rows is not the weighted fit.
    expected_failed_checks=lambda estimator: {
        f"check_sample_weight_equivalence_on_{kind}_data": (
            "sample_weight is not equivalent to removing/repeating samples: stochastic minibatches")
        for kind in ("dense", "sparse")
    },
)
def test_sklearn_compatible_outlier_detector(estimator, check):
    check(estimator)


def _planted(n_rows=600, seed=0):
    """Rows on a noisy plane in 6 dimensions, and rows whose columns come from different rows.

    Every value of an anomalous row is an ordinary value of its column:
    only the combination is new, so no threshold on one column finds it.
    """
    rng = np.random.RandomState(seed)
    mixing = rng.normal(size=(2, 6))
    normal = rng.normal(size=(n_rows, 2)) @ mixing + 0.1 * rng.normal(size=(n_rows, 6))
    new_normal = rng.normal(size=(200, 2)) @ mixing + 0.1 * rng.normal(size=(200, 6))
    anomalies = np.column_stack([normal[rng.randint(n_rows, size=50), j] for j in range(6)])
    return normal, new_normal, anomalies


@pytest.fixture(scope="module")
def planted():
    return _planted()


@pytest.fixture(scope="module")
def fitted(planted):
    normal, _, _ = planted
    return VAEOutlierDetector(VAETransformer(**SMALL), random_state=0).fit(normal)


@pytest.mark.parametrize("n_rows", [83, 420])
@pytest.mark.parametrize("contamination", [0.02, 0.05, 0.1, 0.25, 0.5])
def test_a_float_contamination_flags_that_share_of_the_training_rows(planted, contamination, n_rows):
    normal, _, anomalies = planted
    X = np.vstack([normal[: n_rows - n_rows // 20], anomalies[: n_rows // 20]])
    detector = VAEOutlierDetector(AutoencoderTransformer(**FAST), contamination=contamination, random_state=0)
    share = np.mean(detector.fit(X).predict(X) == -1)
    assert abs(share - contamination) <= 0.01
    assert np.array_equal(detector.fit_predict(X), detector.predict(X))


@pytest.mark.parametrize(("n_rows", "contamination", "n_flagged"), [(7, 0.5, 3), (3, 0.5, 1), (25, 0.1, 2), (35, 0.1, 3)])
def test_a_half_row_of_contamination_rounds_down(planted, n_rows, contamination, n_flagged):
    # Python's round() took a half to the even neighbour: 4 of 7 rows for 0.5, a majority.
    normal, _, _ = planted
    detector = VAEOutlierDetector(AutoencoderTransformer(**FAST), contamination=contamination, random_state=0)
    assert np.sum(detector.fit(normal[:n_rows]).predict(normal[:n_rows]) == -1) == n_flagged


def test_decision_function_is_the_score_shifted_by_offset_and_predict_its_sign(fitted, planted):
    _, new_normal, anomalies = planted
    X = np.vstack([new_normal, anomalies])
    scores = fitted.score_samples(X)
    decision = fitted.decision_function(X)
    np.testing.assert_allclose(decision, scores - fitted.offset_)
    assert np.array_equal(scores, fitted.estimator_.score_samples(X))
    labels = fitted.predict(X)
    assert labels.dtype.kind == "i" and set(np.unique(labels)) == {-1, 1}
    assert np.array_equal(labels, np.where(decision < 0, -1, 1))


def test_anomalies_score_lower_than_normal_rows(fitted, planted):
    _, new_normal, anomalies = planted
    scores = fitted.score_samples(np.vstack([new_normal, anomalies]))
    is_anomaly = np.r_[np.zeros(len(new_normal)), np.ones(len(anomalies))]
    assert roc_auc_score(is_anomaly, -scores) > 0.95
    # "auto" flags few new normal rows and most anomalies
    assert np.mean(fitted.predict(new_normal) == -1) <= 0.05
    assert np.mean(fitted.predict(anomalies) == -1) >= 0.8


def test_auto_controls_the_false_alarm_rate_on_new_normal_rows():
    # 400 of 2000 rows held out: the threshold is the 40th lowest held-out
    # score, and a new normal row falls below it with probability 40/401.
    rng = np.random.RandomState(1)
    mixing = rng.normal(size=(3, 5))
    X = rng.normal(size=(2000, 3)) @ mixing + 0.2 * rng.normal(size=(2000, 5))
    new = rng.normal(size=(4000, 3)) @ mixing + 0.2 * rng.normal(size=(4000, 5))
    detector = VAEOutlierDetector(AutoencoderTransformer(**FAST), false_alarm_rate=0.1, random_state=0).fit(X)
    # the calibration quantile's own spread (sd about 0.015), with room
    assert 0.05 <= np.mean(detector.predict(new) == -1) <= 0.15
    strict = VAEOutlierDetector(AutoencoderTransformer(**FAST), false_alarm_rate=0.01, random_state=0).fit(X)
    assert strict.offset_ < detector.offset_
    assert np.mean(strict.predict(new) == -1) <= 0.03


class NearestRow(BaseEstimator):
    """Minus the distance to the nearest fitted row: 0 exactly on the rows it was fitted on."""

    def fit(self, X, y=None):
        self.rows_ = np.asarray(X, dtype=float)
        return self

    def score_samples(self, X):
        X = np.asarray(X, dtype=float)
        return -np.sqrt(((X[:, None, :] - self.rows_[None]) ** 2).sum(-1)).min(1)


def test_auto_fits_on_the_rest_and_sets_offset_at_the_conformal_quantile_of_the_held_out(planted):
    normal, _, _ = planted
    detector = VAEOutlierDetector(
        NearestRow(), calibration_fraction=0.2, false_alarm_rate=0.05, random_state=0
    ).fit(normal)
    scores = detector.score_samples(normal)
    held_out = scores < 0  # the rows the base estimator was not fitted on
    assert held_out.sum() == 120  # 20% of 600
    # k = floor(0.05 * (120 + 1)) = 6: the 6th lowest held-out score
    assert detector.offset_ == np.sort(scores[held_out])[5]
    assert np.sum(detector.predict(normal) == -1) == 5
    other = VAEOutlierDetector(NearestRow(), calibration_fraction=0.2, random_state=1).fit(normal)
    assert not np.array_equal(other.score_samples(normal) < 0, held_out)  # random_state draws them


def test_mixed_dataframe_with_missing_values():
    rng = np.random.RandomState(0)
    n = 300
    z = rng.normal(size=n)
    frame = pd.DataFrame({
        "height": 170 + 10 * z + rng.normal(size=n),
        "smoker": z + rng.normal(size=n) > 0.5,
        "city": pd.Categorical(np.where(z > 0, "Paris", np.where(z < -1, "Oslo", "Rome"))),
        "visits": rng.poisson(np.exp(1 + 0.5 * z)).astype(float),
    })
    frame.loc[rng.rand(n) < 0.1, "height"] = np.nan
    frame.loc[rng.rand(n) < 0.1, "city"] = np.nan
    detector = VAEOutlierDetector(
        VAETransformer(likelihood="auto", **SMALL), contamination=0.1, random_state=0
    ).fit(frame)
    assert list(detector.feature_names_in_) == list(frame.columns)
    assert detector.n_features_in_ == 4
    assert detector.estimator_.column_likelihoods_["city"] == "categorical"
    scores = detector.score_samples(frame)
    assert scores.shape == (n,) and np.all(np.isfinite(scores))
    assert abs(np.mean(detector.predict(frame) == -1) - 0.1) <= 0.01
    # a tall Oslo row: every value is seen, the combination is not
    odd = frame.iloc[:1].copy()
    odd["height"], odd["city"] = 200.0, "Oslo"
    assert detector.predict(odd)[0] == -1


def test_the_default_estimator_is_a_vae_that_reads_dataframes():
    frame = pd.DataFrame({"a": np.linspace(0, 5, 60), "b": pd.Categorical(["x", "y", "z"] * 20)})
    detector = VAEOutlierDetector(random_state=0).fit(frame)
    assert isinstance(detector.estimator_, VAETransformer)
    assert detector.estimator_.column_likelihoods_ == {"a": "gaussian", "b": "categorical"}


def test_random_state_makes_fit_reproducible(planted):
    normal, new_normal, _ = planted

    def fit(random_state):
        return VAEOutlierDetector(VAETransformer(**FAST), random_state=random_state).fit(normal)

    first, again, other = fit(0), fit(0), fit(1)
    assert first.offset_ == again.offset_
    assert np.array_equal(first.score_samples(new_normal), again.score_samples(new_normal))
    assert first.offset_ != other.offset_
    # the base estimator's own random_state is kept when set; drawn when None
    assert isinstance(first.estimator_.random_state, int)
    kept = VAEOutlierDetector(VAETransformer(**FAST, random_state=7), random_state=0).fit(normal)
    assert kept.estimator_.random_state == 7
    assert kept.estimator.random_state == 7 and first.estimator.random_state is None
    # A Pipeline's step too (it looked at the Pipeline's own parameters, which hold no random_state).
    from sklearn.pipeline import make_pipeline
    from sklearn.preprocessing import StandardScaler

    piped = [VAEOutlierDetector(make_pipeline(StandardScaler(), VAETransformer(**FAST)), random_state=0).fit(normal)
             for _ in range(2)]
    assert piped[0].offset_ == piped[1].offset_
    assert isinstance(piped[0].estimator_[-1].random_state, int)


def test_n_importance_reaches_the_vae_score(planted):
    normal, new_normal, _ = planted
    detector = VAEOutlierDetector(VAETransformer(**FAST), n_importance=8, contamination=0.1, random_state=0)
    detector.fit(normal)
    iwae = detector.estimator_.score_samples(new_normal, n_importance=8)
    assert np.array_equal(detector.score_samples(new_normal), iwae)
    assert not np.allclose(iwae, detector.estimator_.score_samples(new_normal))
    # None is the base's own default, the ELBO: n_importance=1 is the same bound, not another.
    detector.set_params(n_importance=None).fit(normal)
    elbo = detector.score_samples(new_normal)
    assert np.array_equal(detector.set_params(n_importance=1).score_samples(new_normal), elbo)
    with pytest.raises(ValueError, match="offset_ was set on scores with n_importance=None"):
        detector.set_params(n_importance=2).score_samples(new_normal)


@pytest.mark.parametrize(
    "estimator",
    [
        HierarchicalVAETransformer(**FAST, latent_dims=(2, 1)),
        VQVAETransformer(**FAST, n_codes=4),
        VAEGANTransformer(**FAST),
        VAEImputer(**FAST),
        PCA(2),  # any estimator with fit and score_samples
    ],
    ids=lambda estimator: type(estimator).__name__,
)
def test_any_estimator_with_score_samples_is_a_base(planted, estimator):
    normal, new_normal, _ = planted
    detector = VAEOutlierDetector(estimator, contamination=0.1, random_state=0).fit(normal)
    assert abs(np.mean(detector.predict(normal) == -1) - 0.1) <= 0.01
    np.testing.assert_allclose(detector.score_samples(new_normal), detector.estimator_.score_samples(new_normal))


def test_pickle_keeps_the_threshold_and_scores(fitted, planted):
    _, new_normal, anomalies = planted
    X = np.vstack([new_normal, anomalies])
    restored = pickle.loads(pickle.dumps(fitted))
    assert restored.offset_ == fitted.offset_
    assert np.array_equal(restored.predict(X), fitted.predict(X))
    np.testing.assert_allclose(restored.decision_function(X), fitted.decision_function(X))


def test_clear_errors(planted):
    normal, _, _ = planted
    with pytest.raises(ValueError, match="needs y to fit"):
        VAEOutlierDetector(ConditionalVAETransformer(**FAST)).fit(normal)
    with pytest.raises(ValueError, match="takes no n_importance"):
        VAEOutlierDetector(AutoencoderTransformer(**FAST), n_importance=4).fit(normal)
    with pytest.raises(InvalidParameterError, match="estimator"):
        VAEOutlierDetector(object()).fit(normal)
    with pytest.raises(InvalidParameterError, match="contamination"):
        VAEOutlierDetector(AutoencoderTransformer(**FAST), contamination=0.6).fit(normal)
    with pytest.raises(ValueError, match="1 sample"):
        VAEOutlierDetector(AutoencoderTransformer(**FAST)).fit(normal[:1])
    with pytest.raises(NotFittedError):
        VAEOutlierDetector().predict(normal)


def test_a_pipeline_within_a_pipeline_is_read_as_its_steps_in_one(planted):
    from sklearn.pipeline import make_pipeline
    from sklearn.preprocessing import StandardScaler

    normal, _, _ = planted
    flat = VAEOutlierDetector(make_pipeline(StandardScaler(), VAETransformer(**FAST)), n_importance=4, random_state=0)
    flat.fit(normal)
    # n_importance was refused ("Pipeline.score_samples takes no n_importance"): it reaches the VAE within.
    for nested in (make_pipeline(StandardScaler(), make_pipeline(VAETransformer(**FAST))),
                   make_pipeline(make_pipeline(StandardScaler(), VAETransformer(**FAST)))):
        detector = VAEOutlierDetector(nested, n_importance=4, random_state=0).fit(normal)
        assert detector.offset_ == flat.offset_
        np.testing.assert_array_equal(detector.score_samples(normal), flat.score_samples(normal))
    with pytest.raises(ValueError, match="ConditionalVAETransformer needs y to fit"):
        VAEOutlierDetector(make_pipeline(StandardScaler(), make_pipeline(ConditionalVAETransformer(**FAST)))).fit(normal)


def test_the_default_bases_parameters_are_set_through_an_estimator_given():
    # scikit-learn's set_params called set_params on None: an AttributeError that said neither.
    with pytest.raises(ValueError, match=r"estimator__max_iter sets .* estimator=None: .*max_iter=\.\.\."):
        VAEOutlierDetector().set_params(estimator__max_iter=2)
    with pytest.raises(ValueError, match="estimator=None"):
        VAEOutlierDetector(VAETransformer()).set_params(estimator=None, estimator__max_iter=2)
    detector = VAEOutlierDetector().set_params(estimator=VAETransformer(), estimator__max_iter=2)
    assert detector.estimator.max_iter == 2
    assert VAEOutlierDetector(VAETransformer()).set_params(estimator__max_iter=3).estimator.max_iter == 3
    assert VAEOutlierDetector().set_params(contamination=0.1).contamination == 0.1


def test_a_failed_fit_leaves_the_detector_as_it_was(fitted, planted):
    normal, _, _ = planted
    detector = pickle.loads(pickle.dumps(fitted))
    offset, estimator = detector.offset_, detector.estimator_
    with pytest.raises(ValueError, match="1 sample"):
        detector.fit(normal[:1])
    assert detector.offset_ == offset and detector.estimator_ is estimator


def test_the_guide_runs_as_written(capsys):
    page = Path(__file__).resolve().parents[1] / "docs" / "outliers.md"
    (code,) = re.findall(r"```python\n(.*?)```", page.read_text(), flags=re.S)
    with warnings.catch_warnings(record=True) as caught:
        warnings.simplefilter("always")
        exec(compile(code, str(page), "exec"), {})
    # The page mentions no warning: its fits end by the stopping rule (max_iter=50 warned twice).
    assert not [str(w.message) for w in caught if issubclass(w.category, (UserWarning, ConvergenceWarning))]
    out = capsys.readouterr().out
    assert out.startswith("[-1] [-")  # the tall Oslo row is flagged, with a negative decision
    share = float(re.search(r"([\d.]+)% of the training rows flagged", out).group(1))
    assert abs(share - 5) <= 1


def test_rows_a_likelihood_cannot_take_are_flagged_not_refused():
    rng = np.random.RandomState(0)
    X = rng.rand(200, 4)
    detector = VAEOutlierDetector(VAETransformer(likelihood="bernoulli", random_state=0, **FAST),
                                  contamination=0.05, random_state=0).fit(X)
    new = np.vstack([X[:5], [[0.5, 0.5, 0.5, 1.2]], [[-0.1, 0.5, 0.5, 0.5]]])
    with pytest.warns(UserWarning, match=r"2 of 7 rows hold values the base estimator's likelihoods cannot take"):
        scores = detector.score_samples(new)  # raised "likelihood='bernoulli' needs X in [0, 1]"
    assert np.isfinite(scores).all() and (scores[5:] < scores[:5].min()).all()
    np.testing.assert_array_equal(scores[:5], detector.score_samples(X[:5]))
    with pytest.warns(UserWarning, match="cannot take"):
        assert list(detector.predict(new)[5:]) == [-1, -1]
    with pytest.warns(UserWarning, match="cannot take"):
        assert roc_auc_score([0] * 5 + [1] * 2, -detector.decision_function(new)) == 1.0
    # A DataFrame's log-normal column, which "auto" chose: a negative amount is flagged too.
    frame = pd.DataFrame({"amount": np.exp(rng.normal(size=200)) * 100, "x": rng.normal(size=200)})
    detector = VAEOutlierDetector(VAETransformer(random_state=0, **FAST), contamination=0.05, random_state=0)
    detector.fit(frame)
    assert detector.estimator_.column_likelihoods_["amount"] == "lognormal"
    with pytest.warns(UserWarning, match="1 of 3 rows"):
        assert detector.predict(pd.concat([frame[:2], pd.DataFrame({"amount": [-5.0], "x": [0.0]})]))[2] == -1


def test_a_held_out_row_the_fitted_likelihood_cannot_take_is_fitted_not_refused():
    rng = np.random.RandomState(0)
    X = (rng.rand(200, 5) < 0.3).astype(float)
    X[7, 2] = 1.5  # "auto" takes Bernoulli for the rows left to fit on when the split holds this one out
    held_out = np.sort(seed_source(0).permutation(200)[:40])
    assert 7 in held_out
    detector = VAEOutlierDetector(VAETransformer(random_state=0, **FAST), random_state=0).fit(X)  # raised
    # Fitted with the row, as contamination=0.05 fits all rows: the same likelihood, and a threshold
    # on the 39 other held-out rows' scores that normal rows' scores stay above.
    assert detector.estimator_.column_likelihoods_[2] == "gaussian"
    contaminated = VAEOutlierDetector(VAETransformer(random_state=0, **FAST), contamination=0.05).fit(X)
    assert contaminated.estimator_.column_likelihoods_[2] == "gaussian"
    assert -1e10 < detector.offset_ < np.median(detector.score_samples(X))
    assert len(np.unique(detector.decision_function(X))) > 20  # 32 distinct rows of 0s and 1s, and row 7
    # Refused still where every held-out row is such a row.
    lone = np.vstack([np.zeros((1, 5)), np.ones((1, 5)), [[1.5] * 5]])
    # With the model's own refusal, which names the likelihood and what to do, and as the error's cause.
    from sklearn.pipeline import make_pipeline
    from sklearn.preprocessing import FunctionTransformer

    for base in (VAETransformer(random_state=0, **FAST), make_pipeline(VAETransformer(random_state=0, **FAST))):
        with pytest.raises(ValueError, match=r"found no held-out row to calibrate on: each holds a value.*The "
                                             r"first refusal, .*: likelihood=\"bernoulli\" needs X in \[0, 1\]") as caught:
            VAEOutlierDetector(base, calibration_fraction=0.34, random_state=_seed_holding_out(2, 3)).fit(lone)
        assert isinstance(caught.value.__cause__, ValueError)
    # Behind a step, the advice names the steps and the model alike.
    behind = make_pipeline(FunctionTransformer(), VAETransformer(random_state=0, **FAST))
    with pytest.raises(ValueError, match=r"^likelihood=\"bernoulli\" needs X in \[0, 1\].*Give steps and a model "
                                         r"that take what they never saw"):
        VAEOutlierDetector(behind, calibration_fraction=0.34, random_state=_seed_holding_out(2, 3)).fit(lone)


def _refuse_large(rows):
    if (np.asarray(rows)[:, 0] > 5).any():
        raise ValueError("a value above 5")
    return rows


def test_the_rows_a_pipeline_refuses_are_found_by_halving_as_one_at_a_time_finds_them():
    from sklearn.mixture import GaussianMixture
    from sklearn.pipeline import make_pipeline
    from sklearn.preprocessing import FunctionTransformer

    rng = np.random.RandomState(0)
    pipeline = make_pipeline(FunctionTransformer(_refuse_large), GaussianMixture(random_state=0)).fit(rng.rand(50, 2))
    detector, calls = VAEOutlierDetector(), []
    scores = detector._scores
    detector._scores = lambda *args: calls.append(1) or scores(*args)
    for share in (0.0, 0.01, 0.3, 0.9, 1.0):
        X = rng.rand(300, 2)
        X[rng.rand(300) < share, 0] = 9.0
        calls.clear()
        np.testing.assert_array_equal(detector._rows_refused(pipeline, X), X[:, 0] > 5)
    # Every row refused: blocks of a few rows go row by row (427 calls; halving to single rows: 599).
    assert len(calls) <= 1.5 * 300


def _seed_holding_out(row, n_rows):
    """A random_state whose calibration split of ``n_rows`` rows (one held out) holds out ``row``."""
    return next(seed for seed in range(100) if seed_source(seed).permutation(n_rows)[0] == row)


def test_the_flagging_of_rows_outside_support_takes_any_sparse_format():
    import scipy.sparse as sp

    rng = np.random.RandomState(0)
    X = np.where(rng.rand(200, 4) < 0.3, 0.0, rng.rand(200, 4))  # pixels: "auto" takes Bernoulli
    detector = VAEOutlierDetector(VAETransformer(random_state=0, **FAST), contamination=0.05,
                                  random_state=0).fit(X)
    new = X[:6].copy()
    new[0, 0] = 1.2
    expected = detector.score_samples(new[1:])
    for matrix in (sp.coo_matrix, sp.dia_matrix, sp.csr_matrix):  # COO and DIA raised a bare TypeError
        with pytest.warns(UserWarning, match="1 of 6 rows"):
            scores = detector.score_samples(matrix(new))
        np.testing.assert_array_equal(scores[1:], expected)


def test_fit_errors_name_the_detector_and_x_as_given():
    # They named VAETransformer and the 8 rows left after the hold-out, or raised TypeError.
    with pytest.raises(ValueError, match=r"0 feature\(s\) \(shape=\(10, 0\)\) while a minimum of 1 is required by VAEOutlierDetector"):
        VAEOutlierDetector().fit(np.zeros((10, 0)))
    with pytest.raises(ValueError, match="Found array with dim 3.*VAEOutlierDetector"):
        VAEOutlierDetector().fit(np.zeros((10, 2, 2)))
    for scalar in (None, 3.0):
        with pytest.raises(ValueError, match="Expected 2D array, got scalar array"):
            VAEOutlierDetector().fit(scalar)
    with pytest.raises(ValueError, match=r"0 feature\(s\) \(shape=\(10, 0\)\).*required by VAEOutlierDetector"):
        VAEOutlierDetector().fit(pd.DataFrame(index=range(10)))


@pytest.mark.parametrize("kind", ["sparse", "dask"])
def test_a_held_out_hole_is_fitted_alike_from_dense_sparse_and_dask_x(kind):
    import scipy.sparse as sp

    rng = np.random.RandomState(0)
    X = rng.normal(size=(300, 5))
    X[rng.rand(300, 5) < 0.3] = 0
    X[0, 0] = np.nan  # column 0's only hole, which random_state=1 holds out
    new = X[:5].copy()
    new[:, 0] = np.nan
    if kind == "sparse":
        data = sp.csr_matrix(X)
    else:
        data = pytest.importorskip("dask.array").from_array(X, chunks=100)
    given = data.copy()
    fitted = []
    for rows in (X, data):
        detector = VAEOutlierDetector(VAETransformer(random_state=0, **FAST), random_state=1).fit(rows)
        assert detector.estimator_._schema.flagged == [0]  # sparse and dask X left the hole held out
        fitted.append((detector.offset_, detector.decision_function(new)))
    if kind == "sparse":  # the first version of the sparse case rewrote X's index arrays
        assert np.array_equal(data.toarray(), given.toarray(), equal_nan=True) and data.nnz == given.nnz
    # A sparse fit's scaling rounds apart from a dense one's.
    np.testing.assert_allclose(fitted[1][0], fitted[0][0], rtol=1e-6)
    np.testing.assert_allclose(fitted[1][1], fitted[0][1], rtol=1e-6)


def test_the_sparse_tag_is_the_base_s_only_where_it_scores_sparse_x_too():
    # PCA's sparse tag speaks of its fit; its score_samples refuses sparse X, so the detector's did too
    # (scikit-learn's check_estimator_sparse_tag failed on VAEOutlierDetector(PCA(1))).
    from sklearn.utils import get_tags

    assert get_tags(PCA(1)).input_tags.sparse
    assert not get_tags(VAEOutlierDetector(PCA(1))).input_tags.sparse
    assert get_tags(VAEOutlierDetector(VAETransformer())).input_tags.sparse


def test_one_dimensional_sparse_x_gets_the_2d_error():
    import scipy.sparse as sp

    detector = VAEOutlierDetector(VAETransformer(random_state=0, **FAST), contamination=0.1).fit(np.random.RandomState(0).normal(size=(50, 5)))
    with pytest.raises(ValueError, match="Expected 2D input"):  # was "Sparse data was passed, but dense data is required"
        detector.predict(sp.coo_array(np.ones(5)))


def test_the_calibration_refits_until_every_held_out_row_can_be_scored():
    n = 200
    held = np.sort(seed_source(0).permutation(n)[:40])
    rng = np.random.RandomState(1)
    flag, amount = rng.randint(0, 2, n).astype(float), rng.uniform(0, 10, n)
    flag[held[:30]] = 2.0  # beyond the flag's [0, 1] that "auto" sees in the other rows
    amount[held[:30]] = rng.uniform(1e3, 1e5, 30)  # fitted with these, the amount is log-normal...
    amount[held[30]] = -0.01  # ...which this held-out row is then outside of
    X = pd.DataFrame({"flag": flag, "amount": amount})
    detector = VAEOutlierDetector(VAETransformer(random_state=0, **FAST), random_state=0).fit(X)  # raised
    assert detector.estimator_.column_likelihoods_ == {"flag": "gaussian", "amount": "gaussian"}
    assert np.isfinite(detector.offset_)


def test_a_level_only_held_out_rows_hold_is_fitted_when_every_column_is_categorical():
    # likelihood="categorical" for every column reads integers and bools as levels too; a level
    # that only the held-out rows hold must be fitted, as for a dict naming the columns.
    X = pd.DataFrame({"k": np.arange(60) % 3, "b": [True] * 60})
    X.loc[7, ["k", "b"]] = [9, False]
    for random_state in range(10):
        detector = VAEOutlierDetector(VAETransformer(likelihood="categorical", hidden_layer_sizes=(8,), max_iter=3),
                                      random_state=random_state)
        with warnings.catch_warnings():
            warnings.simplefilter("ignore", ConvergenceWarning)
            assert np.isfinite(detector.fit(X).score_samples(X)).all()


def test_a_level_only_held_out_rows_hold_is_fitted_behind_a_step_that_passes_it_through():
    # Judged on X only for a model reading X itself: behind a ColumnTransformer passing the string
    # column through, fit raised "holds categories not seen at fit" for random_state 0 and 19 of 20.
    from sklearn.compose import ColumnTransformer
    from sklearn.pipeline import make_pipeline
    from sklearn.preprocessing import StandardScaler

    rng = np.random.RandomState(0)
    X = pd.DataFrame({"x": rng.normal(size=300), "y": rng.normal(size=300),
                      "city": rng.choice(["a", "b", "c", "d"], 300, p=[0.4, 0.3, 0.29, 0.01])})
    scale = ColumnTransformer([("num", StandardScaler(), ["x", "y"])], remainder="passthrough",
                              verbose_feature_names_out=False).set_output(transform="pandas")
    for random_state in (0, 19):
        detector = VAEOutlierDetector(make_pipeline(scale, VAETransformer(**FAST)), random_state=random_state)
        with warnings.catch_warnings():
            warnings.simplefilter("ignore", ConvergenceWarning)
            assert np.isfinite(detector.fit(X).score_samples(X)).all()
    # A level of X an encoder among the steps refuses (fitted on the other rows: 7 of 10 seeds failed),
    # and one the steps make (holes filled with the string "missing": random_state 9 failed).
    from sklearn.impute import SimpleImputer
    from sklearn.preprocessing import OneHotEncoder, OrdinalEncoder

    shares = 1 / np.arange(1, 31)
    shops = pd.DataFrame({"x": rng.normal(size=300), "y": rng.normal(size=300),
                          "shop": rng.choice([f"s{i}" for i in range(30)], 300, p=shares / shares.sum())})
    onehot = ColumnTransformer([("shop", OneHotEncoder(sparse_output=False), ["shop"]),
                                ("num", StandardScaler(), ["x", "y"])])
    X = pd.DataFrame({"x": rng.normal(size=200), "y": rng.normal(size=200), "city": rng.choice(["a", "b", "c"], 200)})
    X.loc[[17, 140], "city"] = None
    fill = ColumnTransformer([("num", StandardScaler(), ["x", "y"]),
                              ("cat", SimpleImputer(strategy="constant", fill_value="missing"), ["city"])],
                             verbose_feature_names_out=False).set_output(transform="pandas")
    ordinal = ColumnTransformer([("shop", OrdinalEncoder(), ["shop"]), ("num", StandardScaler(), ["x", "y"])])
    for steps, rows, seeds, model in ((onehot, shops, (0, 1), {}), (fill, X, (9,), {}),
                                      (ordinal, shops, (0, 1), {"handle_unknown": "ignore"})):
        for random_state in seeds:
            detector = VAEOutlierDetector(make_pipeline(clone(steps), VAETransformer(**FAST, **model)),
                                          random_state=random_state)
            with warnings.catch_warnings():
                warnings.simplefilter("ignore", ConvergenceWarning)
                assert np.isfinite(detector.fit(rows).score_samples(rows)).all()
    # Levels the steps drop, or encode without refusing, ask for no row: judged on X, an identifier
    # column the steps dropped left no row to calibrate on, and a 150-level one fitted 15 of 40.
    ids = shops.assign(id=[f"r{i}" for i in range(len(shops))])
    numbers = ColumnTransformer([("num", StandardScaler(), ["x", "y"])])
    # (A rate the 60 held-out rows cannot calibrate, so that its warning counts them.)
    detector = VAEOutlierDetector(make_pipeline(numbers, VAETransformer(**FAST)), false_alarm_rate=0.005,
                                  random_state=0)
    with warnings.catch_warnings(record=True) as caught:
        warnings.simplefilter("always")
        detector.fit(ids)
    few = [str(w.message) for w in caught if "held-out" in str(w.message)]
    assert few and "calibrated on 60 held-out rows," in few[0] and "fitted instead" not in few[0]
    # Where the steps refuse every held-out row, their own refusal comes first, and what to change.
    refusing = ColumnTransformer([("id", OneHotEncoder(sparse_output=False), ["id"])])
    detector = VAEOutlierDetector(make_pipeline(refusing, VAETransformer(**FAST)), random_state=0)
    with warnings.catch_warnings(), pytest.raises(
            ValueError, match=r"^Found unknown categories .*\(VAEOutlierDetector: the fitted Pipeline refused every "
                              r"held-out row .*handle_unknown='ignore'"):
        warnings.simplefilter("ignore", ConvergenceWarning)
        detector.fit(ids)


def test_a_row_beyond_float32_is_flagged_and_the_others_scored():
    # IsolationForest answers for every row; one absurd reading must not fail the whole call.
    X = np.random.RandomState(0).normal(size=(200, 3))
    detector = VAEOutlierDetector(VAETransformer(**FAST), contamination=0.05, random_state=0)
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", ConvergenceWarning)
        detector.fit(X)
    expected = detector.score_samples(X)
    X_new = X.copy()
    X_new[17, 1] = 1e39
    with pytest.warns(UserWarning, match="float32"):
        scores = detector.score_samples(X_new)
    assert scores[17] == -1e300
    np.testing.assert_array_equal(np.delete(scores, 17), np.delete(expected, 17))
    with pytest.warns(UserWarning, match="float32"):
        assert detector.predict(X_new)[17] == -1


def test_float32_x_gets_the_scores_and_predictions_of_float64_x():
    # A base estimator scores float32 X in float32; with "auto", offset_ is one held-out row's
    # score, and that row's rounding moved it across the threshold (IsolationForest agrees in both).
    X = np.random.RandomState(0).randint(0, 5, size=(300, 4)).astype(np.float64)
    detector = VAEOutlierDetector(VAETransformer(**FAST), random_state=0)
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", ConvergenceWarning)
        detector.fit(X)
        narrow = clone(detector).fit(X.astype(np.float32))
    np.testing.assert_array_equal(detector.score_samples(X.astype(np.float32)), detector.score_samples(X))
    np.testing.assert_array_equal(detector.predict(X.astype(np.float32)), detector.predict(X))
    assert narrow.offset_ == detector.offset_
    frame = pd.DataFrame(X, columns=list("abcd"))
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", ConvergenceWarning)
        detector.fit(frame)
    np.testing.assert_array_equal(detector.score_samples(frame.astype(np.float32)), detector.score_samples(frame))


def test_a_dask_dataframe_is_fitted_and_scored_as_the_same_pandas_frame():
    # check_has_rows asked a dask frame's lazy row count for a truth value, and the calibration's
    # split took rows by position, which a dask frame has not.
    dd = pytest.importorskip("dask.dataframe")
    frame = pd.DataFrame(np.random.RandomState(0).normal(size=(200, 3)), columns=list("abc"))
    lazy = dd.from_pandas(frame, npartitions=2)
    detector = VAEOutlierDetector(VAETransformer(**FAST), random_state=0)
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", ConvergenceWarning)
        expected = clone(detector).fit(frame).score_samples(frame)
        detector.fit(lazy)
    np.testing.assert_array_equal(detector.score_samples(lazy), expected)


def test_a_base_scoring_minus_infinity_gives_finite_decisions_and_says_why_nothing_is_flagged():
    # A compact kernel's density is -inf outside its support: offset_ became -inf, decisions
    # NaN (-inf - -inf), which predict called inliers, with only NumPy's warning.
    from sklearn.neighbors import KernelDensity

    rng = np.random.RandomState(0)
    X = rng.normal(size=(300, 2))
    X[:3] += 8
    far = np.array([[0.0, 0.0], [50.0, 50.0]])
    with pytest.warns(UserWarning, match=r"1 of the 60 held-out rows score -inf .* none is flagged"):
        calibrated = VAEOutlierDetector(KernelDensity(kernel="tophat", bandwidth=0.5), random_state=0).fit(X)
    assert calibrated.offset_ == -1e300
    assert np.isfinite(calibrated.decision_function(far)).all()
    contaminated = VAEOutlierDetector(KernelDensity(kernel="tophat", bandwidth=0.5), contamination=0.05,
                                      random_state=0).fit(X)
    assert np.isfinite(contaminated.offset_)
    assert contaminated.predict(far).tolist() == [1, -1]

    class Undefined(BaseEstimator):
        def fit(self, X, y=None):
            return self

        def score_samples(self, X):
            return np.where(np.asarray(X)[:, 0] > 1, np.nan, 0.0)

    with pytest.raises(ValueError, match=r"Undefined.score_samples gave NaN for 1 of 2 rows \(the first: row 1\)"):
        VAEOutlierDetector(Undefined(), contamination=0.1).fit(X[X[:, 0] <= 1]).score_samples(far)


def test_auto_calibration_splits_a_placeholder_s_holes_and_a_pipeline_s_as_nan_holes():
    # The held-out rows were checked for holes only as NaN and only for a bare skvae model: a
    # VAEImputer(missing_values=-1) or a Pipeline lost a column observed in two rows whenever both
    # were drawn ("no observed value in the 80 training rows" for some random_state).
    from sklearn.pipeline import make_pipeline
    from sklearn.preprocessing import StandardScaler

    rng = np.random.RandomState(0)
    X = rng.normal(size=(100, 3)) + 5
    X[2:, 0] = np.nan
    X[:2, 0] = [5.0, 5.5]
    marked = np.nan_to_num(X, nan=-1.0)
    small = {"hidden_layer_sizes": (8,), "max_iter": 2, "random_state": 0}
    for base, data in ((VAEImputer(missing_values=-1, **small), marked),
                       (make_pipeline(StandardScaler(), VAETransformer(**small)), X)):
        for seed in (18, 43, 45):  # seeds that drew both observed rows
            with warnings.catch_warnings():
                warnings.simplefilter("ignore", ConvergenceWarning)
                VAEOutlierDetector(base, random_state=seed).fit(data)
    # A Pipeline that fills holes first needs no such rows: they took every calibration row of 12
    # rows with a hole in each of 10 columns (its first version refused 33 random_states of 50).
    from sklearn.impute import SimpleImputer
    from sklearn.neighbors import KernelDensity
    from sklearn.preprocessing import FunctionTransformer

    holed = np.random.default_rng(1).normal(size=(12, 10))
    holed[np.random.default_rng(1).permutation(12)[:10], np.arange(10)] = np.nan
    def refused(base, seed):
        try:
            with warnings.catch_warnings():
                warnings.simplefilter("ignore", ConvergenceWarning)
                VAEOutlierDetector(base, random_state=seed).fit(holed)
        except ValueError as error:
            assert "found no held-out row to calibrate on" in str(error)
            return True
        return False

    for seed in range(10):
        assert not refused(make_pipeline(SimpleImputer(), KernelDensity()), seed)
        assert not refused(make_pipeline(SimpleImputer(), VAETransformer(**small)), seed)
        # Holes the steps before keep are judged as the model reads them: as a bare model's.
        assert refused(make_pipeline(StandardScaler(), VAETransformer(**small)), seed) == refused(
            VAETransformer(**small), seed)
    # The same rows give the same threshold however their holes are marked.
    X = rng.normal(size=(100, 3)) + 5
    X[[10, 20], 0] = np.nan
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", ConvergenceWarning)
        offsets = [VAEOutlierDetector(base, random_state=seed).fit(data).offset_
                   for seed in (5, 6, 16)
                   for base, data in ((VAEImputer(**small), X),
                                      (VAEImputer(missing_values=-1, **small), np.nan_to_num(X, nan=-1.0)),
                                      (make_pipeline(VAEImputer(missing_values=-1, **small)), np.nan_to_num(X, nan=-1.0)),
                                      (make_pipeline(FunctionTransformer(), VAEImputer(missing_values=-1, **small)),
                                       np.nan_to_num(X, nan=-1.0)))]
    assert offsets[0::4] == offsets[1::4] == offsets[2::4] == offsets[3::4]


def test_a_polars_lazy_frame_is_fitted_and_scored_as_the_same_frame():
    # The detector checked X's shape before reading it: a LazyFrame has none ("Expected 2D array").
    pl = pytest.importorskip("polars")
    frame = pd.DataFrame(np.random.RandomState(0).normal(size=(120, 3)), columns=list("abc"))
    detector = VAEOutlierDetector(VAETransformer(**FAST), contamination=0.1, random_state=0)
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", ConvergenceWarning)
        expected = clone(detector).fit(frame).score_samples(frame)
        detector.fit(pl.from_pandas(frame).lazy())
    np.testing.assert_array_equal(detector.score_samples(pl.from_pandas(frame).lazy()), expected)


def test_judging_holes_behind_a_pipeline_s_steps_leaves_x_alone_and_fits_them_only_when_asked():
    # The steps were fitted once more on the caller's own X: a SimpleImputer(copy=False) filled its
    # holes in place, held-out rows included, and every fit paid for the steps twice.
    from sklearn.impute import SimpleImputer
    from sklearn.pipeline import make_pipeline
    from sklearn.preprocessing import FunctionTransformer

    rng = np.random.RandomState(0)
    X = rng.normal(size=(60, 3))
    X[[3, 20, 41], 0] = np.nan
    seen = []
    steps = [SimpleImputer(copy=False), FunctionTransformer(lambda rows: seen.append(len(rows)) or rows)]
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", ConvergenceWarning)
        VAEOutlierDetector(make_pipeline(*steps, VAETransformer(**FAST)), random_state=6).fit(X)
    assert np.isnan(X).sum() == 3
    assert seen[0] == 48  # the steps' first fit is the real one, on the rows left to fit on


def _amounts(n_rows=300):
    rng = np.random.RandomState(0)
    return pd.DataFrame({"amount": rng.lognormal(size=n_rows), "n_items": rng.poisson(3, size=n_rows),
                         "x": rng.normal(size=n_rows)})


def test_a_pipeline_detector_flags_a_row_its_model_cannot_take_as_a_bare_one_does():
    # Behind a Pipeline, a negative amount in a log-normal column made predict, decision_function
    # and score_samples raise for the whole batch; the bare detector flagged that row.
    from sklearn.impute import SimpleImputer
    from sklearn.pipeline import make_pipeline

    frame = _amounts()
    new = frame.iloc[:4].copy()
    new.iloc[0, 0] = -5.0
    pipeline = make_pipeline(SimpleImputer().set_output(transform="pandas"),
                             VAETransformer(latent_dim=2, max_iter=5, random_state=0))
    detector = VAEOutlierDetector(pipeline, contamination=0.05, random_state=0).fit(frame)
    assert detector.estimator_[-1].column_likelihoods_["amount"] == "lognormal"
    with pytest.warns(UserWarning, match="1 of 4 rows hold values the base estimator's likelihoods cannot take"):
        scores = detector.score_samples(new)
    with pytest.warns(UserWarning, match="1 of 4 rows"):
        assert detector.predict(new)[0] == -1
    assert scores[0] == -1e300
    np.testing.assert_array_equal(scores[1:], detector.estimator_.score_samples(new.iloc[1:]))


def test_n_importance_reaches_a_pipelines_last_step():
    # Refused before: Pipeline.score_samples takes no n_importance, and the advice named the
    # VAETransformer the pipeline ended with.
    from sklearn.pipeline import make_pipeline
    from sklearn.preprocessing import StandardScaler

    frame = _amounts()[["x", "n_items"]].astype(float)
    pipeline = make_pipeline(StandardScaler(), VAETransformer(latent_dim=2, max_iter=5, random_state=0))
    detector = VAEOutlierDetector(pipeline, n_importance=4, contamination=0.05, random_state=0).fit(frame)
    fitted = detector.estimator_
    iwae = fitted[-1].score_samples(fitted[0].transform(frame), n_importance=4)
    np.testing.assert_array_equal(detector.score_samples(frame), iwae)
    assert not np.array_equal(iwae, fitted.score_samples(frame))  # the ELBO's
    with pytest.raises(ValueError, match="AutoencoderTransformer.score_samples takes no n_importance"):
        VAEOutlierDetector(make_pipeline(StandardScaler(), AutoencoderTransformer(**FAST)), n_importance=4).fit(frame)


def test_contamination_auto_fits_a_dask_array_of_rows_not_yet_counted():
    # A filtered dask array has shape (nan, 5): counting its rows raised "Cannot call len() on
    # object with unknown chunk size"; IsolationForest and a float contamination fit it.
    da = pytest.importorskip("dask.array")
    X = np.random.RandomState(0).randn(300, 5)
    lazy = da.from_array(X, chunks=(100, 5))
    filtered = lazy[lazy[:, 0] > -0.5]
    detector = VAEOutlierDetector(VAETransformer(**FAST, random_state=0), random_state=0).fit(filtered)
    kept = X[X[:, 0] > -0.5]
    expected = VAEOutlierDetector(VAETransformer(**FAST, random_state=0), random_state=0).fit(kept)
    assert detector.offset_ == expected.offset_
    np.testing.assert_array_equal(detector.predict(kept), expected.predict(kept))


def test_an_unseen_category_names_the_way_to_ignore_it_that_a_fitted_detector_takes():
    # The advice "Set handle_unknown='ignore'" failed on the detector (no such parameter) and through
    # estimator__handle_unknown, which changes the unfitted estimator, not the fitted estimator_.
    rng = np.random.RandomState(0)
    frame = pd.DataFrame({"a": rng.randn(120), "cat": rng.choice(["x", "y"], 120)})
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", ConvergenceWarning)
        detector = VAEOutlierDetector(VAETransformer(hidden_layer_sizes=(8,), max_iter=3, random_state=0)).fit(frame)
    new = frame.head(5).assign(cat="w")
    with pytest.raises(ValueError, match=r"in a fitted VAEOutlierDetector, "
                                         r"detector.estimator_.set_params\(handle_unknown='ignore'\)"):
        detector.predict(new)
    detector.estimator_.set_params(handle_unknown="ignore")
    with pytest.warns(UserWarning, match="read as holes"):
        assert detector.predict(new).shape == (5,)


def test_scoring_swaps_no_process_wide_warnings_state(monkeypatch, tmp_path):
    # catch_warnings around every score saved and restored the process's filters and hooks: calls
    # served from threads at once left one call's "ignore feature names" filter in place for good,
    # and, for a float32 memmap, a hook that swallowed every later warning of the process into a list.
    rng = np.random.RandomState(0)
    frame = pd.DataFrame({"a": rng.randn(120), "b": rng.randn(120)})
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", ConvergenceWarning)
        on_frame = VAEOutlierDetector(VAETransformer(hidden_layer_sizes=(8,), max_iter=3, random_state=0)).fit(frame)
        on_array = VAEOutlierDetector(VAETransformer(hidden_layer_sizes=(8,), max_iter=3, random_state=0)).fit(
            frame.to_numpy())
    stored = np.memmap(tmp_path / "X.f32", dtype=np.float32, mode="w+", shape=(120, 2))
    stored[:] = frame.to_numpy()

    class Watched:  # the detector module's warnings, catch_warnings refused
        def __getattr__(self, name):
            if name == "catch_warnings":
                raise AssertionError("warnings.catch_warnings on the scoring path")
            return getattr(warnings, name)

    expected = on_array.score_samples(np.asarray(stored, dtype=np.float64))  # what a memmap's blocks are scored as
    monkeypatch.setattr("skvae._outliers.warnings", Watched())
    np.testing.assert_array_equal(on_array.score_samples(stored), expected)
    assert on_frame.predict(frame).shape == (120,)
    # The detector says once what its base estimator would have said again.
    for detector, given in ((on_frame, frame.to_numpy()), (on_array, frame)):
        with pytest.warns(UserWarning, match="feature names") as caught:
            detector.predict(given)
        assert len([w for w in caught if "feature names" in str(w.message)]) == 1


def test_a_memmap_with_a_row_outside_the_support_is_scored_a_block_at_a_time(monkeypatch, tmp_path):
    # After one refused row, the others were taken at once: a copy of all but one row of X.
    rng = np.random.RandomState(0)
    X = rng.rand(300, 4)
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", ConvergenceWarning)
        detector = VAEOutlierDetector(VAETransformer(likelihood="bernoulli", hidden_layer_sizes=(8,), max_iter=2,
                                                     random_state=0), random_state=0).fit(X)
    stored = np.memmap(tmp_path / "X.f64", dtype=np.float64, mode="w+", shape=X.shape)
    stored[:] = X
    stored[10, 3] = 1.5  # no Bernoulli probability
    with pytest.warns(UserWarning, match="1 of 300 rows hold values"):
        expected = detector.score_samples(np.array(stored))  # in memory
    monkeypatch.setattr("skvae._outliers.block_rows", lambda n_features: 64)
    sizes = []
    scores_of = VAEOutlierDetector._scores
    monkeypatch.setattr(VAEOutlierDetector, "_scores", lambda self, base, rows: sizes.append(rows.shape[0]) or
                        scores_of(self, base, rows))
    with pytest.warns(UserWarning, match="1 of 300 rows hold values"):
        np.testing.assert_array_equal(detector.score_samples(stored), expected)
    assert max(sizes[1:]) <= 64 and sum(sizes[1:]) == 299  # the first call met the refused row


def test_an_identifier_column_that_leaves_nothing_to_calibrate_on_is_advised_away_not_ignored():
    # The refusal advised handle_unknown='ignore', after which fit_predict flagged 76% of the rows at
    # a 1% false-alarm rate: held-out rows scored without the identifier, the fitted ones with it.
    rng = np.random.RandomState(0)
    frame = pd.DataFrame({"a": rng.randn(300), "b": rng.randn(300), "c": [f"id{i}" for i in range(300)]})
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        with pytest.raises(ValueError, match=r"each holds a category the other rows lack.* A column whose levels "
                                             r"seldom recur \(an identifier\) cannot be calibrated on: drop it") as caught:
            VAEOutlierDetector(VAETransformer(hidden_layer_sizes=(8,), max_iter=3, random_state=0), random_state=0).fit(frame)
    assert "or the estimator handle_unknown='ignore'" not in str(caught.value)
