"""sample_weight: each row's weight in the training loss, as MLPRegressor and IsolationForest take it."""

import copy
import warnings

import numpy as np
import pytest
import torch
from sklearn.decomposition import PCA
from sklearn.exceptions import ConvergenceWarning
from sklearn.pipeline import make_pipeline
from sklearn.preprocessing import StandardScaler

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
from skvae._training import training_weights

FAST = dict(hidden_layer_sizes=(16,), max_iter=3, random_state=0)

# Every family, and the options whose terms reduce over a minibatch's rows in their own way.
FAMILIES = [
    pytest.param(VAETransformer, {}, id="VAE"),
    pytest.param(VAETransformer, {"free_bits": 0.0}, id="VAE without free bits"),
    pytest.param(AutoencoderTransformer, {"sparsity": 0.1, "corruption": "masking"}, id="sparse AE"),
    pytest.param(VQVAETransformer, {"n_codes": 8}, id="VQ-VAE"),
    pytest.param(HierarchicalVAETransformer, {}, id="hierarchical"),
    pytest.param(VAEGANTransformer, {}, id="VAE-GAN"),
    pytest.param(ConditionalVAETransformer, {"condition_dropout": 0.5}, id="conditional"),
    pytest.param(VAEImputer, {}, id="imputer"),
]


def _data(n_rows=120):
    rng = np.random.RandomState(0)
    X = rng.normal(size=(n_rows, 5)) @ rng.normal(size=(5, 5))
    return X, np.arange(n_rows) % 3


def _fit(Estimator, params, X, y, **fit_params):
    estimator = Estimator(**FAST, **params)
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", ConvergenceWarning)
        if Estimator is ConditionalVAETransformer:
            return estimator.fit(X, y, **fit_params)
        return estimator.fit(X, **fit_params)


@pytest.mark.parametrize("Estimator, params", FAMILIES)
def test_equal_weights_fit_exactly_as_none(Estimator, params):
    X, y = _data()
    plain = _fit(Estimator, params, X, y)
    for weights in (np.ones(len(X)), np.full(len(X), 3.5)):
        weighted = _fit(Estimator, params, X, y, sample_weight=weights)
        assert weighted.loss_curve_ == plain.loss_curve_
        for ours, theirs in zip(weighted.network_.parameters(), plain.network_.parameters()):
            assert torch.equal(ours, theirs)


@pytest.mark.parametrize("Estimator, params", FAMILIES)
def test_a_row_of_weight_zero_moves_no_gradient(Estimator, params):
    # The contract at the loss: the rows weighted 0 may hold anything; the loss, every gradient and
    # the codebook a step updates are bitwise those of any other values there.
    X, y = _data()
    estimator = _fit(Estimator, params, X, y)
    weights = np.where(np.arange(len(X)) % 4 == 0, 0.0, np.linspace(0.5, 2.0, len(X)))
    other = X.copy()
    other[weights == 0] = np.random.RandomState(1).normal(size=other[weights == 0].shape) * 3
    conditions = None
    if Estimator is ConditionalVAETransformer:
        conditions = estimator._conditions.encode(y)
    results = []
    for rows in (X, other):
        batch = estimator._training_rows(estimator.network_, rows, conditions, torch.device("cpu"),
                                         weights=training_weights(weights)).take(slice(None))
        model = copy.deepcopy(estimator.network_).train()
        loss = estimator._batch_loss(model, batch, 20, torch.Generator().manual_seed(0))
        loss.backward()
        results.append((loss.detach(), [p.grad for p in model.parameters()], list(model.buffers())))
    (loss, gradients, buffers), (other_loss, other_gradients, other_buffers) = results
    assert torch.equal(loss, other_loss)
    assert all(torch.equal(a, b) for a, b in zip(gradients, other_gradients) if a is not None)
    assert all(torch.equal(a, b) for a, b in zip(buffers, other_buffers))
    # And the weights count: other weights on the same rows give another loss.
    batch = estimator._training_rows(estimator.network_, X, conditions, torch.device("cpu"),
                                     weights=training_weights(weights[::-1].copy())).take(slice(None))
    model = copy.deepcopy(estimator.network_).train()
    assert not torch.equal(estimator._batch_loss(model, batch, 20, torch.Generator().manual_seed(0)).detach(), loss)


def test_weights_move_the_fit_and_reach_it_through_every_entry_point():
    X, y = _data()
    weights = np.linspace(0.1, 3.0, len(X))
    plain = _fit(VAETransformer, {}, X, y)
    weighted = _fit(VAETransformer, {}, X, y, sample_weight=weights)
    assert not np.array_equal(plain.transform(X), weighted.transform(X))
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", ConvergenceWarning)
        np.testing.assert_array_equal(VAETransformer(**FAST).fit_transform(X, sample_weight=weights),
                                      weighted.transform(X))
        # A Pipeline hands its step the weights by the step's name.
        pipe = make_pipeline(VAETransformer(**FAST)).fit(X, vaetransformer__sample_weight=weights)
        np.testing.assert_array_equal(pipe.transform(X), weighted.transform(X))
        imputer = VAEImputer(**FAST)
        holes = X.copy()
        holes[::7, 2] = np.nan
        filled = imputer.fit_transform(holes, sample_weight=weights)
        np.testing.assert_array_equal(filled, VAEImputer(**FAST).fit(holes, sample_weight=weights).transform(holes))
        # The imputer's fit takes them: other fills than without, the same with equal weights.
        assert not np.array_equal(filled, VAEImputer(**FAST).fit_transform(holes))
        np.testing.assert_array_equal(VAEImputer(**FAST).fit_transform(holes, sample_weight=np.ones(len(X))),
                                      VAEImputer(**FAST).fit_transform(holes))

    def streamed(weights):
        model = VAETransformer(**FAST)
        model.partial_fit(X[:60], sample_weight=None if weights is None else weights[:60])
        return model.partial_fit(X[60:], sample_weight=None if weights is None else weights[60:])

    assert streamed(weights).n_iter_ == 2
    # partial_fit takes them too: other codes than without, the same with equal weights.
    assert not np.array_equal(streamed(weights).transform(X), streamed(None).transform(X))
    np.testing.assert_array_equal(streamed(np.ones(len(X))).transform(X), streamed(None).transform(X))


def test_early_stopping_judges_the_weighted_held_out_score():
    X, _ = _data(400)
    weights = np.linspace(0.1, 3.0, len(X))
    params = dict(FAST, early_stopping=True, max_iter=4)
    plain = VAETransformer(**params).fit(X)
    weighted = VAETransformer(**params).fit(X, sample_weight=weights)
    assert len(weighted.validation_scores_) == 4
    assert weighted.validation_scores_ != plain.validation_scores_


def test_weights_of_zero_on_a_whole_part_are_refused_with_the_way_out():
    with pytest.raises(ValueError, match=r"0 on every one of the 2 training rows .*early_stopping=True.*"
                                         r"Give some of them weight"):
        training_weights(np.array([0.0, 0.0, 1.0]), np.array([0, 1]), np.array([2]))
    with pytest.raises(ValueError, match=r"0 on every one of the 1 rows that early_stopping=True holds "
                                         r"out.*set early_stopping=False"):
        training_weights(np.array([1.0, 2.0, 0.0]), np.array([0, 1]), np.array([2]))
    np.testing.assert_allclose(training_weights(np.array([1.0, 3.0, 5.0]), np.array([0, 1])), [0.5, 1.5, 2.5])
    X, _ = _data()
    model = VAETransformer(**FAST).fit(X)
    fitted = model.network_
    for weights, message in ((np.zeros(len(X)), "at least one non-zero"), (-np.ones(len(X)), "Negative values"),
                             (np.ones(len(X) + 1), "shape")):
        with pytest.raises(ValueError, match=message):
            model.fit(X, sample_weight=weights)
        assert model.network_ is fitted  # a refused call leaves the fitted model as it was


def test_the_detector_hands_the_weights_to_its_base_estimator():
    X, _ = _data(200)
    weights = np.linspace(0.1, 3.0, len(X))
    for contamination in ("auto", 0.1):
        plain = VAEOutlierDetector(VAETransformer(**FAST), contamination=contamination, random_state=0).fit(X)
        weighted = VAEOutlierDetector(VAETransformer(**FAST), contamination=contamination,
                                      random_state=0).fit(X, sample_weight=weights)
        assert not np.array_equal(plain.score_samples(X), weighted.score_samples(X))
        equal = VAEOutlierDetector(VAETransformer(**FAST), contamination=contamination,
                                   random_state=0).fit(X, sample_weight=np.ones(len(X)))
        np.testing.assert_array_equal(plain.score_samples(X), equal.score_samples(X))
    # Through a Pipeline, to its last step; fit_predict passes them on as fit takes them.
    pipe = VAEOutlierDetector(make_pipeline(StandardScaler(), VAETransformer(**FAST)), contamination=0.1,
                              random_state=0)
    np.testing.assert_array_equal(pipe.fit_predict(X, sample_weight=weights),
                                  pipe.fit(X, sample_weight=weights).predict(X))
    with pytest.raises(ValueError, match="PCA's fit takes none"):
        VAEOutlierDetector(PCA(2), contamination=0.1).fit(X, sample_weight=weights)


def test_weights_of_any_scale_and_minibatches_of_zero_weight_train():
    # A minibatch of weight 0 before any code had a count divided 0 by 0 in the VQ-VAE's codebook
    # (the fit then "diverged"); weights near float64's largest overflowed their mean, and every
    # weight became 0.
    X, _ = _data(200)
    weights = np.zeros(len(X))
    weights[-5:] = 1.0
    vq = VQVAETransformer(n_codes=4, hidden_layer_sizes=(8,), max_iter=2, batch_size=4, random_state=1)
    assert np.isfinite(vq.fit(X, sample_weight=weights).transform(X)).all()
    small = np.r_[np.ones(len(X) - 1), 2.0]
    reference = _fit(VAETransformer, {}, X, None, sample_weight=small)
    for scale in (1e-300, 1e307):
        np.testing.assert_allclose(_fit(VAETransformer, {}, X, None, sample_weight=small * scale).loss_curve_,
                                   reference.loss_curve_, rtol=1e-6)


def test_the_detector_routes_the_weights_as_its_base_asks():
    import sklearn

    X, _ = _data(120)
    weights = np.linspace(0.1, 3.0, len(X))
    nested = make_pipeline(StandardScaler(), make_pipeline(VAETransformer(**FAST)))
    flat = make_pipeline(StandardScaler(), VAETransformer(**FAST))
    np.testing.assert_array_equal(
        VAEOutlierDetector(nested, contamination=0.1, random_state=0).fit(X, sample_weight=weights).score_samples(X),
        VAEOutlierDetector(flat, contamination=0.1, random_state=0).fit(X, sample_weight=weights).score_samples(X))
    # contamination="auto" holds rows out: weight only on them leaves nothing to fit, and says so.
    only_one = np.zeros(len(X))
    only_one[7] = 1.0
    with pytest.raises(ValueError, match=r'rows the base estimator fits on: contamination="auto" holds the others out'):
        VAEOutlierDetector(VAETransformer(**FAST), random_state=0).fit(X, sample_weight=only_one)
    with sklearn.config_context(enable_metadata_routing=True):
        unweighted = VAEOutlierDetector(VAETransformer(**FAST).set_fit_request(sample_weight=False),
                                        contamination=0.1, random_state=0).fit(X, sample_weight=weights)
        weighted = VAEOutlierDetector(VAETransformer(**FAST).set_fit_request(sample_weight=True),
                                      contamination=0.1, random_state=0).fit(X, sample_weight=weights)
        with pytest.raises(ValueError, match=r"has not requested it: set_fit_request\(sample_weight=True\)"):
            VAEOutlierDetector(VAETransformer(**FAST), contamination=0.1).fit(X, sample_weight=weights)
        # The default base is built at fit, where no one could request the weights: it takes them, as without routing.
        routed = VAEOutlierDetector(contamination=0.1, random_state=0).fit(X[:, :2], sample_weight=weights)
        routed = routed.score_samples(X[:, :2])
    np.testing.assert_array_equal(
        routed, VAEOutlierDetector(contamination=0.1, random_state=0).fit(X[:, :2], sample_weight=weights).score_samples(X[:, :2]))
    plain = VAEOutlierDetector(VAETransformer(**FAST), contamination=0.1, random_state=0).fit(X)
    np.testing.assert_array_equal(unweighted.score_samples(X), plain.score_samples(X))
    assert not np.array_equal(weighted.score_samples(X), plain.score_samples(X))
