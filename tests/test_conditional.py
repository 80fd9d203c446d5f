"""ConditionalVAETransformer: conditions, generation on request, scores with and without y."""

import pickle
import warnings

import numpy as np
import pandas as pd
import pytest
import torch
from scipy.special import logsumexp
from sklearn.base import clone
from sklearn.exceptions import ConvergenceWarning
from sklearn.model_selection import GridSearchCV, KFold
from sklearn.svm import SVC

from skvae import ConditionalVAETransformer

FAST = dict(latent_dim=3, hidden_layer_sizes=(32,), max_iter=4, random_state=0)


@pytest.fixture(scope="module")
def labelled(digits):
    X, y = digits
    return X[:400], y[:400]


@pytest.fixture(scope="module")
def fitted(labelled):
    X, y = labelled
    return ConditionalVAETransformer(likelihood="bernoulli", **FAST).fit(X, y)


def test_generates_only_the_classes_asked_for(digits):
    X, y = digits
    cvae = ConditionalVAETransformer(4, likelihood="bernoulli", max_iter=25, random_state=0).fit(X, y)
    judge = SVC().fit(X, y)
    for label in (4, 7):
        share = (judge.predict(cvae.sample(100, y=label, random_state=label)) == label).mean()
        assert share >= 0.9, (label, share)  # measured: 1.0 and 0.99
    mixed = cvae.sample(6, y=[4, 4, 4, 7, 7, 7], random_state=0)
    assert list(judge.predict(mixed)) == [4, 4, 4, 7, 7, 7]


def test_transform_with_and_without_the_condition(fitted, labelled):
    X, y = labelled
    without = fitted.transform(X)
    # fit_transform(X, y), as a Pipeline calls it, gives the codes without y.
    refit = clone(fitted)
    np.testing.assert_array_equal(refit.fit_transform(X, y), without)
    given = fitted.transform(X, y)
    assert given.shape == without.shape == (400, 3) and not np.allclose(given, without)
    # A single label conditions every row; rows stay independent of each other.
    np.testing.assert_array_equal(fitted.transform(X, 3)[5:6], fitted.transform(X[5:6], [3]))
    np.testing.assert_array_equal(fitted.transform(X[7:8], y[7:8]), given[7:8])


def test_score_without_y_marginalises_the_class(fitted, labelled):
    X, y = labelled
    per_class = np.stack([fitted.score_samples(X, label) for label in fitted.classes_])
    expected = logsumexp(per_class + np.log(fitted.class_prior_)[:, None], axis=0)
    np.testing.assert_allclose(fitted.score_samples(X), expected, rtol=1e-6)
    np.testing.assert_array_equal(fitted.score_samples(X, y), per_class[y, np.arange(len(y))])
    assert fitted.score(X, y) == pytest.approx(fitted.score_samples(X, y).mean())
    iwae = fitted.score_samples(X, y, n_importance=4)
    assert iwae.mean() > fitted.score_samples(X, y).mean()


@pytest.mark.parametrize("dtype", [np.float64, np.float32])
def test_score_without_y_is_the_classes_own_scores_bitwise(fitted, labelled, dtype):
    # Each row is scored under every class in one batch (400 rows of 10 classes cross chunks of 102
    # rows): the same bits as one call per class, whatever the rows beside it. The sum over the
    # classes is a row's own too: summed down the columns of a classes x rows array, a row alone
    # differed by an ulp from the same row among others (float64, from 9 classes).
    X = labelled[0].astype(dtype)
    held = np.arange(len(fitted.classes_))
    for n_importance in (1, 3):
        per_class = np.stack([fitted.score_samples(X, label, n_importance=n_importance) for label in fitted.classes_])
        np.testing.assert_array_equal(fitted._scores_by_class(X, held, n_importance), per_class.T)
        scores = fitted.score_samples(X, n_importance=n_importance)
        assert scores.dtype == dtype
        np.testing.assert_allclose(scores, logsumexp(per_class + np.log(fitted.class_prior_)[:, None], axis=0),
                                   rtol=1e-6 if dtype == np.float32 else 1e-13)
        alone = np.concatenate([fitted.score_samples(X[i : i + 1], n_importance=n_importance) for i in range(len(X))])
        np.testing.assert_array_equal(alone, scores)
        np.testing.assert_array_equal(fitted.score_samples(X[::-1][:150], n_importance=n_importance), scores[::-1][:150])


def test_score_without_y_of_many_classes_holds_no_more_rows_at_once_than_a_class(monkeypatch):
    # Wide streamed X is read a few rows at a time; scored under 300 classes at once, one row made
    # a 300-row batch (2.9 GB more peak memory for 100,000 columns, where one class's pass holds 32;
    # here 40 classes of 3 rows, where 120 rows went at once).
    # On a GPU every batch has one shape: classes beyond it go to further passes of that shape.
    import scipy.sparse as sp

    import skvae._data
    import skvae._sources

    # Read 32 rows at a time, as 65,536 columns are (a smaller share of memory streams these 500).
    monkeypatch.setattr(skvae._sources, "STREAM_VALUES", 32 * 500)
    X, y = sp.random(100, 500, density=0.05, format="csr", random_state=0), np.arange(100) % 40
    cvae = ConditionalVAETransformer(2, hidden_layer_sizes=(8,), likelihood="gaussian", max_iter=1,
                                     random_state=0).fit(X, y)
    per_class = np.stack([cvae.score_samples(X[:3], label) for label in cvae.classes_])
    seen = []
    cvae.network_.encoder.register_forward_pre_hook(lambda module, inputs: seen.append(inputs[0].shape[0]))
    scores = cvae._scores_by_class(X[:3], np.arange(40), 1)
    np.testing.assert_array_equal(scores, per_class.T)
    assert max(seen) <= skvae._sources.block_rows(X.shape[1])  # the rows one class's pass reads at once
    monkeypatch.setattr(skvae._data, "GPU_EVAL_CHUNK_ROWS", 64)
    monkeypatch.setattr(skvae._data, "_pads_to_one_shape", lambda device: True)
    seen.clear()
    per_class = np.stack([cvae.score_samples(X[:3], label) for label in cvae.classes_])
    shapes = set(seen)
    seen.clear()
    np.testing.assert_array_equal(cvae._scores_by_class(X[:3], np.arange(40), 1), per_class.T)
    assert set(seen) == shapes and len(shapes) == 1


def test_inverse_transform_without_y_averages_over_the_classes(fitted):
    Z = np.random.RandomState(0).normal(size=(5, 3))
    expected = sum(p * fitted.inverse_transform(Z, k) for k, p in zip(fitted.classes_, fitted.class_prior_))
    np.testing.assert_allclose(fitted.inverse_transform(Z), expected, rtol=1e-6)
    assert not np.allclose(fitted.inverse_transform(Z, 0), fitted.inverse_transform(Z, 1))


def test_inverse_transform_without_y_averages_a_censored_columns_point_values():
    """Each class's value is bounded before the average: a mean past the cap stands for the cap."""
    import pandas as pd

    rng = np.random.RandomState(0)
    y = rng.randint(0, 2, 400)
    X = pd.DataFrame({"capped": np.minimum(10.0, np.where(y == 1, 14, 5) + rng.normal(size=400)),
                      "level": rng.normal(size=400) + y})
    cvae = ConditionalVAETransformer(latent_dim=1, max_iter=30, random_state=0).fit(X, y)
    assert cvae.censored_bounds_ == {"capped": (None, 10.0)}
    Z = cvae.transform(X, y)
    expected = sum(p * cvae.inverse_transform(Z, np.full(400, k)) for k, p in zip(cvae.classes_, cvae.class_prior_))
    np.testing.assert_allclose(cvae.inverse_transform(Z), expected, rtol=1e-5)
    assert cvae.inverse_transform(Z)["capped"].max() < 10.0  # the classes' average, not the cap


def test_sample_without_y_draws_labels_by_their_training_frequency(labelled):
    X, y = labelled
    y = np.where(y < 3, "rare", "common")  # any labels LabelEncoder takes
    cvae = ConditionalVAETransformer(likelihood="bernoulli", **FAST).fit(X, y)
    assert list(cvae.classes_) == ["common", "rare"]
    np.testing.assert_allclose(cvae.class_prior_, [np.mean(y == "common"), np.mean(y == "rare")])
    np.testing.assert_array_equal(cvae.sample(7, random_state=1), cvae.sample(7, random_state=1))
    # The labels come from a stream of their own, seeded by the first draw; the codes follow.
    from skvae._random import draw_seed

    rng = np.random.RandomState(1)
    labels = cvae.classes_[np.random.RandomState(draw_seed(rng)).choice(2, size=7, p=cvae.class_prior_)]
    codes = rng.standard_normal((7, 3))
    # Sampled rows stay within each column's training range.
    expected = np.clip(cvae.inverse_transform(codes, labels), X.min(0), X.max(0))
    np.testing.assert_array_equal(cvae.sample(7, random_state=1), expected)
    # The seed comes second by position, as in every skvae estimator's sample; y only by name.
    np.testing.assert_array_equal(cvae.sample(7, 1), expected)
    with pytest.raises(TypeError):
        cvae.sample(7, 1, "rare")


def test_covariates(labelled):
    X, _ = labelled
    covariates = np.c_[X[:, :8].mean(1), X[:, -8:].mean(1)] * 100 + 5  # any scale
    cvae = ConditionalVAETransformer(likelihood="bernoulli", **FAST).fit(X, covariates)
    assert cvae.classes_ is None and cvae.n_condition_features_ == 3
    assert cvae.transform(X, covariates).shape == (400, 3)
    assert cvae.sample(4, y=covariates[:1], random_state=0).shape == (4, 64)
    assert np.all(np.isfinite(cvae.score_samples(X, covariates)))
    for method, args in [("score_samples", (X,)), ("inverse_transform", (np.zeros((2, 3)),)), ("sample", (2,))]:
        with pytest.raises(ValueError, match=r"without y needs class labels.*fitted with covariates \(y was 2-D at fit.*Pass y"):
            getattr(cvae, method)(*args)
    with pytest.raises(ValueError, match="y has 3 covariates per row, but the model was fitted with 2"):
        cvae.transform(X, np.c_[covariates, covariates[:, 0]])
    with pytest.raises(ValueError, match="y must be 2-D"):
        cvae.transform(X, covariates[:, 0])


def test_bad_conditions_are_clear_errors_and_change_nothing(fitted, labelled):
    X, y = labelled
    before = fitted.transform(X)
    cases = [
        (lambda: fitted.transform(X, np.full(400, 11)), r"labels the model was not fitted with: \[11\]"),
        (lambda: fitted.sample(2, y=42), r"not fitted with: \[42\].*classes_=\[0, 1"),
        (lambda: fitted.transform(X, y[:-1]), "y has 399 rows, but X has 400"),
        (lambda: fitted.sample(3, y=[1, 2]), "y holds 2 conditions for n_samples=3"),
        (lambda: clone(fitted).fit(X, np.where(y == 3, np.nan, y)), "y holds NaN, None or pd.NA"),
        (lambda: clone(fitted).fit(X, None), "requires y to be passed"),
        (lambda: fitted.partial_fit(X, np.full(400, 11)), r"not fitted with: \[11\]"),
    ]
    for call, message in cases:
        with pytest.raises(ValueError, match=message):
            call()
    np.testing.assert_array_equal(fitted.transform(X), before)


def test_partial_fit_takes_classes_up_front(labelled):
    X, y = labelled
    cvae = ConditionalVAETransformer(**FAST)
    cvae.partial_fit(X[y < 5], y[y < 5], classes=np.arange(10))
    assert list(cvae.classes_) == list(range(10)) and cvae.class_count_[5:].sum() == 0
    cvae.partial_fit(X[y >= 5], y[y >= 5])
    np.testing.assert_array_equal(cvae.class_count_, np.bincount(y, minlength=10))
    assert cvae.n_iter_ == 2


def test_a_class_listed_but_never_trained_on_is_warned_about_where_y_names_it(labelled):
    X, y = labelled
    cvae = ConditionalVAETransformer(likelihood="bernoulli", **FAST)
    cvae.partial_fit(X[y < 5], y[y < 5], classes=np.arange(10))
    with pytest.warns(UserWarning, match=r"no training row had \(\[7\]"):
        cvae.sample(3, 0, y=7)
    with pytest.warns(UserWarning, match=r"no training row had \(\[5, 9\]"):
        cvae.transform(X[:4], [5, 9, 1, 5])
    with warnings.catch_warnings():
        warnings.simplefilter("error")  # classes that were trained on, or no y: nothing to say
        cvae.sample(3, 0, y=2)
        cvae.sample(3, 0)
        cvae.transform(X[:4], [0, 1, 2, 3])
        scores = cvae.score_samples(X[:20])
    # A warm_start fit counts its own y's classes, but the network had trained on the others.
    warm = ConditionalVAETransformer(likelihood="bernoulli", **FAST).fit(X, y)
    warm.set_params(warm_start=True).fit(X[y < 5], y[y < 5])
    assert warm.class_count_[7] == 0
    with warnings.catch_warnings():
        warnings.simplefilter("error")
        warm.sample(3, 0, y=7)
    # score_samples without y averages over the trained classes alone: prior 0 adds nothing.
    per_class = np.stack([cvae.score_samples(X[:20], np.full(20, k)) for k in range(5)])
    np.testing.assert_allclose(scores, logsumexp(per_class + np.log(cvae.class_prior_[:5])[:, None], axis=0))


def test_a_warm_start_fit_counts_its_own_classes(labelled):
    X, y = labelled
    cvae = ConditionalVAETransformer(**FAST, warm_start=True).fit(X, y).fit(X[y < 5], y[y < 5])
    np.testing.assert_array_equal(cvae.class_count_, np.bincount(y[y < 5], minlength=10))  # was the sum of both
    np.testing.assert_allclose(cvae.class_prior_, cvae.class_count_ / (y < 5).sum())
    cvae.partial_fit(X[y >= 5], y[y >= 5])
    np.testing.assert_array_equal(cvae.class_count_, np.bincount(y, minlength=10))


def test_grid_search_scores_with_y_and_pickles(fitted, labelled):
    X, y = labelled
    search = GridSearchCV(ConditionalVAETransformer(**FAST), {"beta": [0.5, 2.0]}, cv=2).fit(X, y)
    assert np.all(np.isfinite(search.cv_results_["mean_test_score"]))
    # Each fold is scored with its y: score(X_test, y_test) of the fold's model, not the score without y.
    cv = KFold(2)
    folds = [ConditionalVAETransformer(**FAST, beta=0.5).fit(X[train], y[train]).score(X[test], y[test])
             for train, test in cv.split(X)]
    assert search.cv_results_["split0_test_score"][0] == pytest.approx(folds[0], rel=1e-12)
    assert search.cv_results_["split1_test_score"][0] == pytest.approx(folds[1], rel=1e-12)
    restored = pickle.loads(pickle.dumps(fitted))
    np.testing.assert_array_equal(restored.transform(X, y), fitted.transform(X, y))
    np.testing.assert_array_equal(restored.sample(3, random_state=0), fitted.sample(3, random_state=0))


def test_convolutional_cvae(labelled):
    X, y = labelled
    cvae = ConditionalVAETransformer(
        likelihood="bernoulli", image_shape=(8, 8), conv_channels=(8,), **FAST
    ).fit(X, y)
    assert cvae.sample(3, y=2, random_state=0).shape == (3, 64)
    assert cvae.transform(X[:5], y[:5]).shape == (5, 3)


def _explained(approximation, target):
    return 1.0 - ((approximation - target) ** 2).sum() / ((target - target.mean(0)) ** 2).sum()


def test_transform_without_y_learns_the_code_given_with_y(labelled):
    X, y = labelled
    trained = ConditionalVAETransformer(likelihood="bernoulli", **{**FAST, "max_iter": 30}).fit(X, y)
    untrained = ConditionalVAETransformer(likelihood="bernoulli", condition_dropout=0.0,
                                          **{**FAST, "max_iter": 30}).fit(X, y)
    explained = _explained(trained.transform(X), trained.transform(X, y))
    explained_untrained = _explained(untrained.transform(X), untrained.transform(X, y))
    assert explained > 0.9 and explained_untrained < explained - 0.1  # measured: 0.95 and 0.80


def test_condition_gap_trains_the_encoder_without_entering_the_loss(fitted, labelled):
    import torch

    X, y = labelled
    model = fitted.network_
    model.train()
    batch = fitted._training_rows(model, X[:64], fitted._conditions.encode(y[:64]), torch.device("cpu")).batch
    terms = model.loss_terms(batch, torch.Generator().manual_seed(0), condition_dropout=0.5)
    model.eval()
    gap = terms["condition_gap"]
    assert float(gap.detach()) == 0.0
    model.zero_grad()
    gap.backward()
    assert any(p.grad is not None and float(p.grad.abs().sum()) > 0 for p in model.encoder.parameters())
    assert all(p.grad is None or float(p.grad.abs().sum()) == 0 for p in model.decoder.parameters())


def test_a_label_of_another_type_is_an_unseen_label_not_a_type_error():
    import pandas as pd

    X = np.random.RandomState(0).normal(size=(60, 4))
    labels = pd.Series(np.array(["a", "b", "c"])[np.arange(60) % 3])  # object classes_, as df["label"] gives
    model = ConditionalVAETransformer(**FAST).fit(X, labels)
    # searchsorted compared 'a' with 0: "TypeError: '<' not supported between instances of 'str' and 'int'".
    for call in (lambda: model.sample(2, y=0), lambda: model.transform(X[:2], [0, 0]),
                 lambda: model.score_samples(X[:1], 2.5)):
        with pytest.raises(ValueError, match=r"y holds labels the model was not fitted with: \[('0'|0|2\.5)\]"):
            call()
    with pytest.raises(ValueError, match=r"y mixes label types"):
        model.transform(X[:2], [0, "a"])


def test_later_covariates_far_outside_the_first_scaling_warn():
    rng = np.random.RandomState(0)
    X = rng.normal(size=(64, 3))
    first = 30 + rng.uniform(-0.5, 0.5, size=(64, 1))  # the first block's ages span a year
    later = rng.uniform(20, 70, size=(64, 1))
    model = ConditionalVAETransformer(**FAST).partial_fit(X, first)
    # The network read ages up to 140 standard deviations out, in silence.
    with pytest.warns(UserWarning, match=r"partial_fit: y lies far outside the scaling fixed by the first fit: covariate 0"):
        model.partial_fit(X, later)
    import warnings

    with warnings.catch_warnings():
        warnings.simplefilter("error", UserWarning)
        model.partial_fit(X, 30 + rng.uniform(-0.5, 0.5, size=(64, 1)))


def test_drawn_rows_take_their_classes_rate_of_holes():
    import pandas as pd

    rng = np.random.RandomState(0)
    labels = np.array(["F", "M"])[np.arange(400) % 2]
    frame = pd.DataFrame({"height": rng.normal(170, 8, 400), "pregnancies": pd.array(rng.poisson(1.5, 400), dtype="Int64")})
    frame.loc[labels == "M", "pregnancies"] = pd.NA  # never observed for one class
    model = ConditionalVAETransformer(**FAST).fit(frame, labels)
    # Both classes drew holes at the pooled 50%: half of the "M" rows got a count.
    assert model.sample(400, random_state=0, y="M")["pregnancies"].isna().all()
    assert not model.sample(400, random_state=0, y="F")["pregnancies"].isna().any()
    mixed = model.sample(2000, random_state=0)
    assert 0.4 < mixed["pregnancies"].isna().mean() < 0.6


def test_rows_drawn_or_decoded_for_a_pandas_y_carry_its_index():
    # They came back on 0..n-1: writing the labels beside them (rows.assign(label=y)) gave NaN.
    rng = np.random.RandomState(0)
    frame = pd.DataFrame(rng.randn(200, 3), columns=list("abc"))
    model = ConditionalVAETransformer(**FAST).fit(frame, rng.choice(["u", "v"], 200))
    wanted = pd.Series(["u", "v", "v"], index=[10, 11, 12], name="label")
    drawn = model.sample(3, y=wanted, random_state=0)
    assert drawn.index.equals(wanted.index)
    assert drawn.assign(label=wanted)["label"].tolist() == ["u", "v", "v"]
    pd.testing.assert_frame_equal(drawn.reset_index(drop=True), model.sample(3, y=wanted.to_numpy(), random_state=0))
    codes = model.transform(frame.iloc[10:13])
    assert model.inverse_transform(codes, y=wanted).index.equals(wanted.index)
    codes_frame = pd.DataFrame(codes, index=[5, 6, 7])  # the codes' own index first, as without y
    assert model.inverse_transform(codes_frame, y=wanted).index.tolist() == [5, 6, 7]
    assert model.sample(3, y="u", random_state=0).index.equals(pd.RangeIndex(3))  # one label for all rows


def test_labels_equal_to_the_classes_are_the_classes_whatever_their_type():
    X = np.random.RandomState(0).normal(size=(60, 4))
    flags = np.arange(60) % 2 == 0
    model = ConditionalVAETransformer(**FAST).fit(X, flags)
    # 1 is True, as LabelEncoder takes it: refused by a first version of the unseen-label check.
    np.testing.assert_array_equal(model.transform(X[:3], flags[:3].astype(int)), model.transform(X[:3], flags[:3]))
    np.testing.assert_array_equal(model.transform(X[:3], flags[:3].astype(float)), model.transform(X[:3], flags[:3]))


def test_conditions_are_made_a_chunk_at_a_time_not_for_every_row_at_once():
    # 500 classes: every row's one-hot condition at once is 20,000 x 501 float32, 40 MB, for a
    # 320 KB sample; made per evaluation chunk they stay near the output's size.
    import tracemalloc

    rng = np.random.RandomState(0)
    X, y = rng.normal(size=(1000, 2)), np.arange(1000) % 500
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        model = ConditionalVAETransformer(latent_dim=2, hidden_layer_sizes=(8,), max_iter=1, random_state=0).fit(X, y)
    one_hot_bytes = 20_000 * 501 * 4
    for call in (lambda: model.sample(20_000, random_state=0), lambda: model.transform(np.tile(X, (20, 1))),
                 lambda: model.transform(np.tile(X, (20, 1)), np.tile(y, 20)),
                 lambda: model.sample(20_000, random_state=0, y=7)):
        tracemalloc.start()
        try:
            call()
            _, peak = tracemalloc.get_traced_memory()
        finally:
            tracemalloc.stop()
        assert peak < one_hot_bytes / 4


def test_labels_missing_as_nat_or_mixed_in_a_list_are_refused_with_what_is_wrong():
    X = np.random.RandomState(0).normal(size=(40, 3))
    dates = np.array(["2020-01-01", "2021-01-01", "NaT", "2020-01-01"] * 10, dtype="datetime64[ns]")
    with pytest.raises(ValueError, match="y holds NaN, None or pd.NA"):
        ConditionalVAETransformer(max_iter=1).fit(X, dates)
    # As a list, np.asarray made them the strings "a" and "1": the label 1 was then unknown.
    with pytest.raises(ValueError, match=r"y mixes label types \['int', 'str'\]"):
        ConditionalVAETransformer(max_iter=1).fit(X, ["a", 1] * 20)
    with pytest.raises(ValueError, match=r"y holds NaN, None or pd.NA \(first at position 1\)"):
        ConditionalVAETransformer(max_iter=1).fit(X, ["a", None] * 20)
    # A label taken from classes_ (a NumPy string) beside a Python one is the same type of label.
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        model = ConditionalVAETransformer(**FAST).fit(X, ["a", "b"] * 20)
    np.testing.assert_array_equal(model.transform(X[:2], [model.classes_[0], "b"]), model.transform(X[:2], ["a", "b"]))
    with pytest.raises(ValueError, match=r"position 2\).*Fit on the labelled rows.*leave y out"):
        model.transform(X[:3], pd.array(["a", "b", pd.NA]))  # the way there for rows of no known label
    flags = ConditionalVAETransformer(**FAST).fit(X, [True, np.True_, False, np.False_] * 10)
    assert list(flags.classes_) == [False, True]  # numpy's booleans are Python's, not classes of their own
    # A set has no order to match rows by (was an unhashable-type error); a label given
    # where sample takes its seed (was "cannot be used to seed a RandomState").
    with pytest.raises(TypeError, match="got a set, whose items have no order"):
        model.sample(2, 0, y={"a"})
    with pytest.raises(ValueError, match=r"random_state='b' is not a seed.*Pass y='b'"):
        model.sample(2, "b")


def test_an_outlier_detector_over_a_pipeline_ending_in_a_conditional_model_says_it_needs_y():
    from sklearn.pipeline import make_pipeline
    from sklearn.preprocessing import StandardScaler

    from skvae import VAEOutlierDetector

    X = np.random.RandomState(0).normal(size=(40, 3))
    detector = VAEOutlierDetector(make_pipeline(StandardScaler(), ConditionalVAETransformer(max_iter=1)))
    with pytest.raises(ValueError, match="ConditionalVAETransformer needs y to fit, but an outlier detector"):
        detector.fit(X, np.arange(40) % 2)


def test_y_left_in_X_as_a_column_draws_a_warning():
    # fit(df, df["species"]) sampled rows for "Chinstrap" whose species column said otherwise (53%).
    rng = np.random.RandomState(0)
    frame = pd.DataFrame({"x": rng.normal(size=80), "species": rng.choice(["Adelie", "Gentoo"], 80)})
    with pytest.warns(UserWarning, match=r"y is X's column 'species'.*X\.drop\(columns='species'\)"):
        ConditionalVAETransformer(hidden_layer_sizes=(8,), max_iter=2, random_state=0).fit(frame, frame["species"])
    with warnings.catch_warnings():
        warnings.simplefilter("error", UserWarning)
        warnings.simplefilter("ignore", ConvergenceWarning)
        model = ConditionalVAETransformer(hidden_layer_sizes=(8,), max_iter=2, random_state=0)
        model.fit(frame.drop(columns="species"), frame["species"])
        # A column of that name holding other values is not y.
        model.fit(frame.assign(species=frame["species"][::-1].to_numpy()), frame["species"])


def test_early_stopping_never_holds_out_every_row_of_a_class():
    # The validation split was drawn without the labels: a class whose rows were all held out was
    # never trained on (its weights never moved), yet counted in class_prior_ and sampled, silently.
    from skvae._training import validation_split

    labels = np.array(["a"] * 29 + ["b"] * 29 + ["r"] * 2)
    for seed in range(40):
        training, validation = validation_split(60, 0.5, np.random.RandomState(seed), labels)
        assert set(labels[training]) == {"a", "b", "r"}
        assert len(training) + len(validation) == 60 and len(validation) >= 29
        # A split that needs no change stays as drawn: the same rows as without labels.
        plain = validation_split(60, 0.5, np.random.RandomState(seed))
        if set(labels[plain[0]]) == {"a", "b", "r"}:
            np.testing.assert_array_equal(training, plain[0])
    X = np.random.RandomState(0).normal(size=(60, 3))
    model = ConditionalVAETransformer(2, hidden_layer_sizes=(8,), max_iter=2, random_state=6, early_stopping=True,
                                      validation_fraction=0.5, n_iter_no_change=50)
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", ConvergenceWarning)
        first = model.fit(X, labels).network_.encoder.layers[0].weight.detach().clone()
        later = model.set_params(max_iter=4).fit(X, labels).network_.encoder.layers[0].weight.detach()
    assert not torch.equal(first[:, 5], later[:, 5])  # the weights that read class "r" moved


def test_a_label_by_position_or_dated_covariates_are_refused_with_the_way_on():
    # sample(4, True) seeded with True (check_random_state's 1) and drew labels by frequency; dates
    # among covariates gave numpy's DTypePromotionError.
    rng = np.random.RandomState(0)
    X = rng.normal(size=(40, 3))
    small = {"hidden_layer_sizes": (4,), "max_iter": 1, "random_state": 0}
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", ConvergenceWarning)
        model = ConditionalVAETransformer(**small).fit(X, np.array([True, False] * 20))
    for label in (True, np.True_, 1.5):
        with pytest.raises(ValueError, match=r"is not a seed: .*the condition is keyword-only. Pass y="):
            model.sample(4, label)
    # A long list of labels is shown short; with y given, True seeds as scikit-learn reads it.
    with pytest.raises(ValueError, match=r"^random_state=<list of 100000 labels> is not a seed: .* Pass them as y=.$"):
        model.sample(4, [True] * 100_000)
    np.testing.assert_array_equal(model.sample(4, random_state=True, y=True), model.sample(4, random_state=1, y=True))
    # A Generator is no label: the seed's own refusal, not advice to pass it as y.
    with pytest.raises(ValueError, match="random_state must be an int .* A numpy Generator cannot seed one"):
        model.sample(4, random_state=np.random.default_rng(0), y=True)
    dated = pd.DataFrame({"when": pd.Timestamp("2024-01-01") + pd.to_timedelta(rng.randint(0, 50, 40), unit="D"),
                          "v": rng.normal(size=40)})
    with pytest.raises(ValueError, match=r"its column .when. holds dates, times or durations, whose unit is unknown"):
        ConditionalVAETransformer(**small).fit(X, dated)
    # An array of dates was read as numbers in its own unit: the same dates in seconds were other conditions.
    with pytest.raises(ValueError, match=r"but it holds dates, times or durations"):
        ConditionalVAETransformer(**small).fit(X, np.c_[dated["when"].to_numpy(), dated["when"].to_numpy()])
    # Rows of dates and numbers as tuples were read as ticks; Timestamps as objects gave a bare TypeError.
    pairs = list(zip(dated["when"].to_numpy(), dated["v"]))
    for rows in (pairs, dated.to_numpy(), dated.astype({"v": str}).assign(v="x").to_numpy()):
        with pytest.raises(ValueError, match=r"^y is 2-D, so it is read as numeric covariates, but it holds"):
            ConditionalVAETransformer(**small).fit(X, rows)
    pl = pytest.importorskip("polars")  # a polars frame's dtypes are a list (its first version raised there)
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", ConvergenceWarning)
        covariates = ConditionalVAETransformer(**small).fit(X, pl.from_pandas(dated.assign(when=1.0)))
    assert covariates.transform(X[:2], pl.from_pandas(dated.assign(when=1.0).head(2))).shape == (2, 2)


def test_class_labels_given_as_a_one_column_frame_are_not_read_as_a_silent_covariate():
    # df[["label"]] of integers fitted a model conditioned on one standardised number (class 2 "twice"
    # class 1) without a word, and a Categorical one on its categories' values; strings were refused.
    rng = np.random.RandomState(0)
    X = rng.randn(80, 3)
    labels = pd.DataFrame({"label": rng.randint(0, 3, 80)})
    settings = {"hidden_layer_sizes": (8,), "max_iter": 2, "random_state": 0}
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", ConvergenceWarning)
        with pytest.warns(UserWarning, match=r"one column \(3 distinct whole numbers\) is read as one numeric "
                                             r"covariate.*df\['label'\] rather than df\[\['label'\]\]"):
            ConditionalVAETransformer(**settings).fit(X, labels)
        with pytest.raises(ValueError, match=r"its column 'label' holds categories \(a pandas Categorical\). "
                                             r"Pass one column of class labels 1-D"):
            ConditionalVAETransformer(**settings).fit(X, labels.astype("category"))
        with warnings.catch_warnings():
            warnings.simplefilter("error", UserWarning)
            warnings.simplefilter("ignore", ConvergenceWarning)
            covariate = ConditionalVAETransformer(**settings).fit(X, labels.astype(float))  # said to be numbers
            ConditionalVAETransformer(**settings).fit(X, labels["label"])  # labels, 1-D
    assert covariate.classes_ is None


def test_a_row_of_covariates_given_as_a_series_or_dict_is_told_how_to_make_it_one_row():
    # The advice y.reshape(1, -1) failed on a Series (no reshape), and a dict was "an array of shape ()".
    rng = np.random.RandomState(0)
    covariates = pd.DataFrame({"age": rng.randn(60), "bmi": rng.randn(60)})
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", ConvergenceWarning)
        model = ConditionalVAETransformer(hidden_layer_sizes=(8,), max_iter=2, random_state=0).fit(rng.randn(60, 3), covariates)
    with pytest.raises(ValueError, match=r"got a Series of 2 values. One row for every sample is y.to_frame\(\).T"):
        model.sample(3, y=covariates.iloc[0])
    with pytest.raises(ValueError, match=r"got a dict of 2 entries. One row for every sample is pd.DataFrame\(\[y\]\)"):
        model.sample(3, y=dict(covariates.iloc[0]))
    assert model.sample(1, y=covariates.iloc[0].to_frame().T).shape == (1, 3)
