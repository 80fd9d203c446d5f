"""No silent wrong answers: each case here once returned one (issue 11)."""

import warnings

import numpy as np
import pytest
import torch
from conftest import ESTIMATORS, SMALL
from sklearn.decomposition import FactorAnalysis

from skvae import AutoencoderTransformer, VAETransformer


def _state(estimator):
    return {k: v.clone() for k, v in estimator.network_.state_dict().items()}, list(estimator.loss_curve_)


@pytest.mark.parametrize("Estimator", ESTIMATORS)
def test_a_large_offset_is_not_quantised_away(Estimator):
    # Unix timestamps: offset 1.7e9, spread 1. Cast to float32 before
    # standardising, every row became the same value.
    rng = np.random.RandomState(1)
    X = rng.randn(500, 2) @ rng.randn(2, 6)
    params = dict(hidden_layer_sizes=(16,), max_iter=5, random_state=0)
    shifted = Estimator(**params).fit_transform(X + 1.7e9)
    plain = Estimator(**params).fit_transform(X)
    assert len(np.unique(shifted, axis=0)) == 500
    np.testing.assert_allclose(shifted, plain, rtol=1e-4, atol=1e-4)  # float32 rounding


@pytest.mark.parametrize("Estimator", ESTIMATORS)
def test_values_beyond_float32_are_a_clear_error_or_a_correct_result(Estimator):
    X = np.random.RandomState(0).randn(100, 5)
    model = Estimator(hidden_layer_sizes=(8,), max_iter=2, random_state=0).fit(X)
    huge = X.copy()
    huge[3, 2] = 1e39
    for method in ("transform", "score_samples"):
        with pytest.raises(ValueError, match=r"X\[3, 2\] = 1e\+39.*beyond float32's range.*column 2"):
            getattr(model, method)(huge)
    # Tiny and huge scales that fit in float64 are standardised first: the
    # same model as on X itself.
    for factor in (1e-40, 1e39, 1e300):
        if factor == 1e300 and Estimator is VAETransformer:
            with pytest.raises(ValueError, match=r"standard deviation of 1.*e\+300, above 1e\+150.*could overflow float64"):
                Estimator(hidden_layer_sizes=(8,), max_iter=2, random_state=0).fit(X * factor)
            continue
        scaled = Estimator(hidden_layer_sizes=(8,), max_iter=2, random_state=0).fit(X * factor)
        np.testing.assert_allclose(scaled.transform(X * factor), model.transform(X), rtol=1e-5, atol=1e-6)


def test_outliers_get_finite_very_low_scores():
    X = np.random.RandomState(0).randn(500, 5)
    vae = VAETransformer(max_iter=5, random_state=0).fit(X)
    for n_importance in (1, 5):
        outliers = vae.score_samples(X * 1000, n_importance=n_importance)
        assert np.all(np.isfinite(outliers))
        assert outliers.max() < vae.score_samples(X).min()


@pytest.mark.parametrize("Estimator", ESTIMATORS)
def test_divergence_in_the_last_step_is_caught_and_changes_nothing(Estimator):
    X = np.random.RandomState(0).randn(200, 6)
    diverging = dict(learning_rate_init=1e3, max_iter=1, batch_size=200, random_state=0)
    with pytest.raises(ValueError, match=r"Training diverged at iteration 1: after its last step"):
        Estimator(**diverging).fit(X)
    with pytest.raises(ValueError, match=r"Training diverged at iteration 1"):
        Estimator(**diverging).partial_fit(X)
    model = Estimator(**SMALL).fit(X)
    before = _state(model)
    with pytest.raises(ValueError, match=r"Training diverged at iteration 6"):
        model.set_params(learning_rate_init=1e3, batch_size=200).partial_fit(X)
    after = _state(model)
    assert before[1] == after[1] and all(torch.equal(before[0][k], after[0][k]) for k in before[0])


@pytest.mark.parametrize("Estimator", ESTIMATORS)
def test_every_method_uses_what_the_model_was_fitted_with(Estimator, digits):
    X = digits[0][:200]
    model = Estimator(**SMALL, likelihood="bernoulli").fit(X)
    scores, codes = model.score_samples(X), model.transform(X)
    model.set_params(likelihood="gaussian", latent_dim=5, hidden_layer_sizes=(4,), image_shape=(8, 8))
    np.testing.assert_array_equal(model.score_samples(X), scores)
    np.testing.assert_array_equal(model.transform(X), codes)
    # The range check is the fitted likelihood's, not the new parameter's.
    with pytest.raises(ValueError, match=r'likelihood="bernoulli" needs X in \[0, 1\]'):
        model.score_samples(X * 16)


def test_a_slowly_improving_linear_vae_is_not_stopped_early():
    # Heteroscedastic linear-Gaussian data: factor analysis is the exact
    # model, and the linear VAE must come within 0.5 nats of it. Judging
    # single epochs, the stopping rule ended this fit at epoch 243, 0.67
    # nats short; judging a moving average it trains on, to 0.43 nats.
    rng = np.random.RandomState(0)
    W = rng.normal(size=(2, 20))
    noise, offsets = np.linspace(0.2, 3, 20), 10 + rng.normal(size=20)

    def draw(n):
        return rng.normal(size=(n, 2)) @ W + noise * rng.normal(size=(n, 20)) + offsets

    X_train, X_test = draw(1000), draw(1000)
    vae = VAETransformer(hidden_layer_sizes=(), max_iter=300, random_state=0).fit(X_train)
    reference = FactorAnalysis(2).fit(X_train).score(X_test)
    assert vae.score(X_test) > reference - 0.5, (vae.score(X_test), reference, vae.n_iter_)


def test_noise_variance_is_floored_at_the_data_resolution():
    # A near-constant feature on a grid of 1/16 (a border pixel): its learned
    # variance used to collapse to 1e-6 of its tiny variance, and a held-out
    # row with a value seen once in training lost hundreds of nats.
    rng = np.random.RandomState(0)
    X = np.round(rng.rand(400, 4) * 16) / 16
    X[:, 0] = 0.0
    X[:3, 0] = 1 / 16
    vae = VAETransformer(likelihood="gaussian", hidden_layer_sizes=(8,), max_iter=30, random_state=0).fit(X)
    assert np.all(vae.noise_variance_ >= (1 / 16) ** 2 / 12 * (1 - 1e-5))
    odd_row = np.array([[1 / 16, 0.5, 0.5, 0.5]])
    assert vae.score_samples(odd_row)[0] > vae.score_samples(X).mean() - 30


def test_continuous_data_keep_the_factor_analysis_floor():
    X = np.random.RandomState(0).randn(300, 5) * [1e-3, 1, 10, 1e3, 5]
    vae = VAETransformer(hidden_layer_sizes=(8,), max_iter=2, random_state=0).fit(X)
    floor = torch.exp(vae.network_.columns.parts[0].log_min_variance).double().numpy()
    np.testing.assert_allclose(floor, 1e-6, rtol=1e-6)  # resolution far below the spread: the 1e-6 floor rules


def test_autoencoder_reconstruction_of_a_huge_offset_is_in_input_units():
    rng = np.random.RandomState(2)
    X = rng.randn(400, 3) @ rng.randn(3, 5) + 1.7e9
    ae = AutoencoderTransformer(3, hidden_layer_sizes=(16,), max_iter=60, random_state=0).fit(X)
    error = ae.inverse_transform(ae.transform(X)) - X
    # Not quantised to float32's 128-unit steps (150 standard deviations), and better than each
    # column's mean (0.8 of a standard deviation): 0.12 at this commit.
    assert np.abs(error).mean() < 0.3 * X.std(0).mean()


def _interrupting(Estimator, after_steps):
    class Interrupted(Estimator):
        def _batch_loss(self, model, batch, epochs_elapsed, generator):
            self._steps = getattr(self, "_steps", 0) + 1
            if self._steps > after_steps:
                raise KeyboardInterrupt
            return super()._batch_loss(model, batch, epochs_elapsed, generator)

    Interrupted.__name__ = Estimator.__name__
    return Interrupted


@pytest.mark.parametrize("Estimator", ESTIMATORS)
def test_an_interrupted_fit_keeps_its_completed_epochs(Estimator, tabular):
    # 300 rows in batches of 30: 10 steps an epoch; interrupt in the 4th epoch.
    params = dict(SMALL, max_iter=20, batch_size=30)
    with pytest.warns(UserWarning, match=r"interrupted \(KeyboardInterrupt\) after iteration 3"):
        model = _interrupting(Estimator, after_steps=35)(**params).fit(tabular)
    assert model.n_iter_ == 3 and len(model.loss_curve_) == 3
    three = Estimator(**{**params, "max_iter": 3}).fit(tabular)
    assert model.loss_curve_ == three.loss_curve_
    np.testing.assert_array_equal(model.transform(tabular), three.transform(tabular))
    np.testing.assert_array_equal(model.score_samples(tabular), three.score_samples(tabular))


@pytest.mark.parametrize("Estimator", ESTIMATORS)
def test_an_interrupt_before_the_first_epoch_ends_changes_nothing(Estimator, tabular):
    with pytest.raises(KeyboardInterrupt):
        _interrupting(Estimator, after_steps=3)(**SMALL).fit(tabular)
    model = _interrupting(Estimator, after_steps=10**6)(**SMALL).fit(tabular)
    before = _state(model)
    model._steps, model.warm_start = 10**6, True  # the next step interrupts
    with pytest.raises(KeyboardInterrupt):
        model.partial_fit(tabular)
    with pytest.raises(KeyboardInterrupt):
        model.fit(tabular)
    after = _state(model)
    assert before[1] == after[1] and all(torch.equal(before[0][k], after[0][k]) for k in before[0])


def test_an_interrupted_early_stopping_fit_keeps_its_best_epoch(tabular):
    params = dict(SMALL, max_iter=30, batch_size=30, early_stopping=True)
    with pytest.warns(UserWarning, match="its best epoch"):
        model = _interrupting(VAETransformer, after_steps=9 * 16 + 4)(**params).fit(tabular)
    assert model.n_iter_ == 16 == len(model.validation_scores_)
    assert model.best_validation_score_ == max(model.validation_scores_[model.kl_warmup:])


def test_an_interrupt_within_the_kl_warmup_says_no_epoch_was_judged(tabular):
    # No epoch is judged on the held-out rows in the warm-up: the warning said the model held "its
    # best epoch"; it holds the last one.
    params = dict(SMALL, max_iter=30, batch_size=30, early_stopping=True)
    with pytest.warns(UserWarning, match=r"that iteration \(no epoch had been judged on the held-out rows yet\)"):
        model = _interrupting(VAETransformer, after_steps=9 * 5 + 4)(**params).fit(tabular)
    assert model.n_iter_ == 5 < model.kl_warmup and model.best_validation_score_ == -np.inf
    np.testing.assert_array_equal(model.transform(tabular), VAETransformer(**{**params, "max_iter": 5}).fit(tabular).transform(tabular))


@pytest.mark.parametrize("early_stopping", [False, True])
@pytest.mark.parametrize("Estimator", [VAETransformer, AutoencoderTransformer])
def test_rows_left_in_host_memory_train_the_same_model(Estimator, early_stopping, monkeypatch):
    # The path a GPU takes when X does not fit in its free memory, forced
    # on the CPU: minibatches gathered on the host and moved as used.
    import skvae._base
    import skvae._sources

    X = np.random.RandomState(0).normal(size=(300, 6))
    params = dict(latent_dim=2, hidden_layer_sizes=(8,), max_iter=4, batch_size=64, random_state=0,
                  early_stopping=early_stopping)
    resident = Estimator(**params).fit(X)
    taken = []
    original_take = skvae._sources.TensorRows.take

    def take(self, index):
        taken.append(self.resident)
        return original_take(self, index)

    monkeypatch.setattr(skvae._base, "fits_on_device", lambda n_bytes, device: False)
    monkeypatch.setattr(skvae._sources.TensorRows, "take", take)
    hosted = Estimator(**params).fit(X)
    assert taken and not any(taken)
    np.testing.assert_array_equal(resident.transform(X), hosted.transform(X))
    np.testing.assert_array_equal(resident.loss_curve_, hosted.loss_curve_)


def test_fits_on_device_is_always_true_on_the_cpu():
    from skvae._sources import fits_on_device

    assert fits_on_device(10**15, "cpu")


def test_partial_fit_warns_when_later_blocks_leave_the_first_scaling():
    rng = np.random.RandomState(0)
    first = rng.normal(size=(200, 4))
    estimator = VAETransformer(latent_dim=2, hidden_layer_sizes=(8,), random_state=0).partial_fit(first)
    with warnings.catch_warnings():
        warnings.simplefilter("error")
        estimator.partial_fit(rng.normal(size=(200, 4)))  # same distribution: silent
        estimator.partial_fit(rng.normal(size=(3, 4)))  # a few rows: judged all together
        lone = rng.normal(size=(200, 4))
        lone[7, 1] = 60.0  # one value far out is an outlier, not a drift (the root mean square was 4.4)
        estimator.partial_fit(lone)
    drifted = rng.normal(size=(200, 4))
    drifted[:, 2] = drifted[:, 2] * 10 + 50
    with pytest.warns(UserWarning, match=r"partial_fit: .*column 2 has a root mean square over 3 standard deviations.*"
                                         r"no scaling of X changes that: give the first call rows that represent"):
        estimator.partial_fit(drifted)
    # The same words at every call of a drifting stream: Python's default filter shows them once.
    with warnings.catch_warnings(record=True) as caught:
        warnings.simplefilter("default")
        for shift in (60, 70, 80):
            drifted[:, 2] += shift
            estimator.partial_fit(drifted)
    assert len([w for w in caught if "far outside the input scaling" in str(w.message)]) == 1


def test_warm_start_fit_warns_too_and_pooled_for_few_rows():
    rng = np.random.RandomState(0)
    estimator = AutoencoderTransformer(latent_dim=2, hidden_layer_sizes=(8,), max_iter=2, warm_start=True,
                                       random_state=0)
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        estimator.fit(rng.normal(size=(100, 4)))
    with pytest.warns(UserWarning, match=r"fit \(warm_start=True\): .*the standardised columns together "
                                         r"\(a block of under 32 rows\) have a root mean square"):
        estimator.fit(rng.normal(size=(5, 4)) + 20)
