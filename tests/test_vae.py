"""VAETransformer's probabilistic claims, checked against references (skvae/_vae.py)."""

import numpy as np
import pandas as pd
import pytest
import torch
from probabilistic_checks import (
    TutorialScalingVAE,
    active_units_and_accuracy,
    beta_search,
    decoder_in_input_units,
    exact_log_likelihood,
    linear_gaussian,
    linear_vae,
)
from scipy.linalg import subspace_angles
from sklearn.decomposition import PCA, FactorAnalysis

from skvae import VAETransformer
from skvae.nn.latents import kl_to_standard_normal


@pytest.mark.parametrize(
    "noise_variance, Reference", [("isotropic", PCA), ("per_feature", FactorAnalysis)]
)
def test_linear_vae_recovers_ppca_and_factor_analysis(noise_variance, Reference):
    # Tipping & Bishop (1999); Lucas et al. (2019): the linear VAE's ELBO
    # optimum is the classical maximum-likelihood model.
    X_train, X_test, _ = linear_gaussian(noise_variance)
    reference = Reference(2).fit(X_train)
    vae = linear_vae(noise_variance).fit(X_train)

    ours, theirs = vae.score(X_test), reference.score(X_test)
    assert abs(ours - theirs) <= max(0.01 * abs(theirs), 0.5), (ours, theirs)
    assert abs(exact_log_likelihood(vae, X_test).mean() - theirs) <= max(0.01 * abs(theirs), 0.5)

    W, _, psi = decoder_in_input_units(vae)
    angles = np.degrees(subspace_angles(W, reference.components_.T))
    assert angles.max() < 2.0, angles
    # Each feature's noise share of its variance. Measured: within 0.3
    # points of FactorAnalysis; 3 points above PCA (its sigma^2 is 7% high
    # after 400 epochs: the linear VAE nears the pPCA optimum slowly).
    noise_share = psi / X_train.var(0)
    reference_share = np.broadcast_to(reference.noise_variance_, psi.shape) / X_train.var(0)
    np.testing.assert_allclose(noise_share, reference_share, atol=0.05)


def test_bounds_are_ordered_below_the_exact_likelihood():
    X_train, X_test, _ = linear_gaussian("isotropic")
    # A briefly trained model has a loose ELBO, so the gaps are large enough
    # to check against the Monte-Carlo error.
    for max_iter, min_gap in [(3, 0.5), (10, 0.1)]:
        vae = linear_vae("isotropic", max_iter=max_iter).fit(X_train)
        elbo, iwae5, iwae50 = (vae.score_samples(X_test, n_importance=k).mean() for k in (1, 5, 50))
        exact = exact_log_likelihood(vae, X_test).mean()
        assert elbo + min_gap < iwae5 < iwae50 < exact, (elbo, iwae5, iwae50, exact)
    # Trained, the bound is tight: IWAE with 50 samples is within 0.05 nats of log p(x).
    vae = linear_vae("isotropic").fit(X_train)
    iwae50 = vae.score_samples(X_test, n_importance=50).mean()
    assert exact_log_likelihood(vae, X_test).mean() - 0.05 < iwae50 <= exact_log_likelihood(vae, X_test).mean() + 0.01


def test_elbo_matches_an_independent_monte_carlo_estimate(digits):
    X = digits[0][:300]
    vae = VAETransformer(latent_dim=3, hidden_layer_sizes=(32,), max_iter=20, random_state=0).fit(X * 7 + 2)
    network = vae.network_
    loc, scale = vae.network_.columns.standardisation()
    x = torch.as_tensor((X * 7 + 2 - loc) / scale, dtype=torch.float32)
    with torch.no_grad():
        mu, log_var = network.encode(x)
        q = torch.distributions.Normal(mu, torch.exp(0.5 * log_var))
        noise = torch.randn(2000, *mu.shape, generator=torch.Generator().manual_seed(0))
        z = mu + noise * q.stddev
        reconstruction = network.likelihood.log_prob(x, network.decode(z)).mean(0)
        kl = torch.distributions.kl_divergence(q, torch.distributions.Normal(0.0, 1.0)).sum(-1)
    expected = (reconstruction - kl).double().numpy() - np.log(scale).sum()
    np.testing.assert_allclose(vae.score_samples(X * 7 + 2).mean(), expected.mean(), atol=0.05)


def test_score_includes_the_log_jacobian_of_the_scaling(tabular):
    # Rescaling the features only relabels the units: the same model
    # (same seed, same standardised data) has a density lower by sum(log c).
    factors = np.array([2.0, 10.0, 0.5, 3.0, 1.0, 7.0])
    params = dict(hidden_layer_sizes=(16,), max_iter=5, random_state=0)
    base = VAETransformer(**params).fit(tabular)
    scaled = VAETransformer(**params).fit(tabular * factors)
    np.testing.assert_allclose(scaled.transform(tabular * factors), base.transform(tabular), atol=1e-4)
    # Rescaled rows round to other float32 bits, so they get other (equally
    # valid) Monte-Carlo draws: compare means, far more precisely than the
    # log(210) = 5.3 nats the Jacobian contributes.
    np.testing.assert_allclose(
        scaled.score(tabular * factors), base.score(tabular) - np.log(factors).sum(), atol=0.1
    )
    # PCA's score moves the same way.
    pca_shift = PCA(2).fit(tabular).score(tabular) - PCA(2).fit(tabular * factors).score(tabular * factors)
    assert pca_shift > 0


def test_score_ignores_training_beta(tabular):
    vae = VAETransformer(beta=4.0, hidden_layer_sizes=(16,), max_iter=5, random_state=0).fit(tabular)
    before = vae.score_samples(tabular)
    vae.set_params(beta=0.25)
    np.testing.assert_array_equal(vae.score_samples(tabular), before)


def test_importance_weighted_score_is_deterministic_and_row_independent(tabular):
    vae = VAETransformer(hidden_layer_sizes=(16,), max_iter=5, random_state=0).fit(tabular)
    scores = vae.score_samples(tabular, n_importance=5)
    np.testing.assert_array_equal(vae.score_samples(tabular, n_importance=5), scores)
    np.testing.assert_array_equal(vae.score_samples(tabular[7:8], n_importance=5), scores[7:8])
    order = np.random.RandomState(1).permutation(len(tabular))
    np.testing.assert_array_equal(vae.score_samples(tabular[order], n_importance=5), scores[order])
    for bad in (0, -2, 1.5, True):
        with pytest.raises(ValueError, match="n_importance"):
            vae.score_samples(tabular, n_importance=bad)


def test_a_small_call_decodes_only_its_own_rows_draws(tabular):
    # A call of one row is evaluated in a chunk padded to 32 rows; its score
    # decodes that row's 16 draws (padded to 32 rows), not 16 draws of every
    # padding row (512 rows, 4-5 ms on a 784-pixel model).
    vae = VAETransformer(hidden_layer_sizes=(16,), max_iter=5, random_state=0).fit(tabular)
    decoded = []
    hook = vae.network_.decoder.register_forward_hook(lambda module, args, out: decoded.append(out.shape[0]))
    try:
        for rows, importance, expected in [(1, 1, 32), (3, 1, 64), (1, 5, 32), (100, 1, 16 * 128)]:
            decoded.clear()
            vae.score_samples(tabular[:rows], n_importance=importance)
            assert sum(decoded) == expected, (rows, importance, decoded)
    finally:
        hook.remove()


def test_defaults_do_not_collapse_the_posterior(digits):
    active, accuracy = active_units_and_accuracy(VAETransformer(latent_dim=8, random_state=0), *digits)
    assert active >= 6 and accuracy >= 0.9, (active, accuracy)
    # The same check catches the mistaken loss scaling: every unit collapses.
    active, accuracy = active_units_and_accuracy(TutorialScalingVAE(latent_dim=8, random_state=0), *digits)
    assert active <= 1 and accuracy < 0.3, (active, accuracy)


def test_kl_per_dim_is_the_mean_kl_of_each_latent_dimension(digits):
    X = digits[0][:300]
    vae = VAETransformer(latent_dim=4, likelihood="bernoulli", hidden_layer_sizes=(32,), max_iter=10, random_state=0).fit(X)
    with torch.no_grad():
        mu, log_var = vae.network_.encode(torch.as_tensor(X, dtype=torch.float32))
    expected = kl_to_standard_normal(mu, log_var).mean(0).double().numpy()
    np.testing.assert_allclose(vae.kl_per_dim_, expected, rtol=1e-5)
    assert vae.n_active_units_ == int((expected > 0.01).sum())


def test_kl_warmup_ramps_the_kl_weight_linearly():
    vae = VAETransformer(beta=2.0, kl_warmup=4)
    assert [vae._kl_weight(t) for t in (0.0, 1.0, 2.0, 4.0, 9.5)] == [0.0, 0.5, 1.0, 2.0, 2.0]
    assert VAETransformer(beta=2.0, kl_warmup=0)._kl_weight(0.0) == 2.0


def test_free_bits_keep_more_units_active(digits):
    # Bernoulli pixels carry little information per dimension, so some of 8
    # units go unused; free bits make using them free up to the threshold.
    params = dict(latent_dim=8, likelihood="bernoulli", max_iter=60, random_state=0)
    plain = VAETransformer(**params, free_bits=0.0).fit(digits[0])
    guarded = VAETransformer(**params, free_bits=0.5).fit(digits[0])
    assert guarded.n_active_units_ > plain.n_active_units_
    assert np.all(guarded.kl_per_dim_ > 0.1)


def test_grid_search_over_beta_does_not_just_pick_the_smallest():
    # Few rows and a roomy latent space: beta=0.25 spends the codes on
    # memorising the training rows. score() is the held-out ELBO at beta=1, so
    # cross-validation sees through that.
    search, held_out = beta_search()
    cv_scores = dict(zip(search.cv_results_["param_beta"], search.cv_results_["mean_test_score"]))
    assert search.best_params_["beta"] != 0.25, cv_scores
    assert held_out[search.best_params_["beta"]] > held_out[0.25], held_out


def test_samples_drawn_from_the_likelihood_spread_like_the_data(tabular):
    vae = VAETransformer(hidden_layer_sizes=(16,), max_iter=30, random_state=0).fit(tabular)
    means = vae.sample(2000, random_state=0, from_likelihood=False)
    drawn = vae.sample(2000, random_state=0, from_likelihood=True)
    # The codes are the same; the draws add the learned noise, which the means lack.
    assert not np.array_equal(means, drawn)
    assert np.all(drawn.std(0) > means.std(0))
    np.testing.assert_allclose(drawn.std(0), tabular.std(0), rtol=0.3)
    np.testing.assert_array_equal(drawn, vae.sample(2000, random_state=0, from_likelihood=True))


def test_sample_draws_codes_where_the_training_codes_lie():
    # Two tight clusters: their codes are two blobs, and N(0, I) codes between them decode to
    # rows like neither; sample draws from the mixture fitted to the codes (skvae._prior).
    rng = np.random.RandomState(0)
    centres = rng.normal(size=(2, 10)) * 4
    X = np.vstack([c + 0.3 * rng.normal(size=(200, 10)) for c in centres])
    vae = VAETransformer(max_iter=60, random_state=0).fit(X)

    def far_from_both(rows):
        return np.mean(np.min([np.linalg.norm(rows - c, axis=1) for c in centres], axis=0) > 3.0)

    drawn = vae.sample(2000, random_state=0, from_likelihood=False)
    from_standard_normal = vae.inverse_transform(np.random.RandomState(0).standard_normal((2000, 2)))
    assert far_from_both(X) == 0
    assert far_from_both(from_standard_normal) > 0.05  # measured 0.10
    assert far_from_both(drawn) < 0.01  # measured 0.0
    # A row's draw does not depend on how many are drawn.
    np.testing.assert_array_equal(vae.sample(5, random_state=3, from_likelihood=False),
                                  vae.sample(50, random_state=3, from_likelihood=False)[:5])


def test_a_fit_of_fewer_than_ten_rows_samples_from_the_standard_normal():
    X = np.random.RandomState(0).normal(size=(9, 3))
    vae = VAETransformer(max_iter=2, random_state=0).fit(X)
    codes = np.random.RandomState(1).standard_normal((4, 2))
    np.testing.assert_array_equal(vae.sample(4, random_state=1, from_likelihood=False),
                                  np.clip(vae.inverse_transform(codes), X.min(0), X.max(0)))
    assert bool(VAETransformer(max_iter=2, random_state=0).fit(np.r_[X, X[:1]]).network_.latent.mixture_fitted)


def test_the_code_mixture_fits_clusters_as_scikit_learn_does():
    from sklearn.mixture import GaussianMixture

    from skvae._prior import _log_densities, gaussian_mixture

    rng = np.random.RandomState(0)
    X = np.vstack([rng.normal(size=(300, 3)) * 0.2 + offset for offset in ([0, 0, 0], [3, 0, 0], [0, 3, 1])])
    weights, means, covariances = gaussian_mixture(X, 3, np.random.RandomState(0))
    log_rows = _log_densities(X, means, covariances) + np.log(weights)
    ours = np.mean(np.log(np.exp(log_rows).sum(1)))
    reference = GaussianMixture(3, covariance_type="full", random_state=0).fit(X)
    # Widened by 5% of the codes' variance (skvae._prior.COVARIANCE_SHARE), it fits worse than
    # scikit-learn's, and far better than one Gaussian.
    one = GaussianMixture(1, covariance_type="full").fit(X)
    assert one.score(X) + 1.0 < ours < reference.score(X)
    np.testing.assert_allclose(np.sort(weights), [1 / 3] * 3, atol=1e-3)
    np.testing.assert_allclose(means[np.argsort(means[:, 0] + 2 * means[:, 1])],
                               [[0, 0, 0], [3, 0, 0], [0, 3, 1]], atol=0.05)
    # One component per training code still draws more than that code: its covariance is widened.
    _, _, covariances = gaussian_mixture(X[:30], 30, np.random.RandomState(0))
    assert np.linalg.eigvalsh(covariances).min() > 0.01 * X[:30].var(0).min()
    # Codes of a few distinct values (a collapsed latent) still give a distribution.
    weights, _, covariances = gaussian_mixture(np.zeros((50, 2)), 5, np.random.RandomState(0))
    assert len(weights) == 1 and np.all(np.linalg.eigvalsh(covariances) > 0)


def test_partial_fit_samples_from_the_standard_normal_again():
    # A mixture of the last block's codes drew only that block's kind of rows (a stream ordered by
    # class sampled its last class alone), and refitting it every call cost 20 times the call.
    X = np.random.RandomState(0).normal(size=(200, 3))
    vae = VAETransformer(max_iter=3, random_state=0).fit(X)
    assert bool(vae.network_.latent.mixture_fitted)
    vae.partial_fit(X[:50])
    codes = np.random.RandomState(1).standard_normal((4, 2))
    np.testing.assert_array_equal(vae.sample(4, random_state=1, from_likelihood=False),
                                  np.clip(vae.inverse_transform(codes), X.min(0), X.max(0)))


def test_sample_holds_its_output_about_once_and_draws_its_holes_as_one_draw_would():
    # A clipped copy, a copy to put holes in and a float64 draw for every value: 3.2x the
    # output at the peak (2x with from_likelihood=False); clipped and holed in place, 1.1x.
    import tracemalloc

    rng = np.random.RandomState(0)
    X = rng.normal(size=(300, 50))
    X[rng.rand(*X.shape) < 0.1] = np.nan
    vae = VAETransformer(hidden_layer_sizes=(16,), max_iter=3, random_state=0).fit(X)
    for from_likelihood in (False, True):
        tracemalloc.start()
        try:
            rows = vae.sample(20_000, random_state=0, from_likelihood=from_likelihood)
            _, peak = tracemalloc.get_traced_memory()
        finally:
            tracemalloc.stop()
        assert peak < 1.5 * rows.nbytes
    # Drawn a block of rows at a time, the holes are where one draw of a uniform per value puts them.
    values = np.zeros((10_000, 50))
    rates = np.array([c.missing_rate for c in vae._schema.columns])
    expected = np.random.RandomState(0).random_sample(values.shape) < rates
    holed = vae._schema.with_holes(values, np.random.RandomState(0))
    np.testing.assert_array_equal(np.isnan(holed), expected)


def _traced_sample(model, n_samples):
    """``model.sample(n_samples)``, the bytes it left held and its peak, by tracemalloc."""
    import tracemalloc

    tracemalloc.start()
    try:
        rows = model.sample(n_samples, random_state=0)
        held, peak = tracemalloc.get_traced_memory()
    finally:
        tracemalloc.stop()
    return rows, held, peak


def test_a_frame_models_sample_copies_its_columns_once():
    # Each float column copied twice on its way and the frame built from copies: 3.8x the decoded
    # float64 values at the peak; 2.8x now (those values, the frame, a column's temporaries).
    rng = np.random.RandomState(0)
    frame = pd.DataFrame({"a": rng.normal(size=300), "b": rng.gamma(2.0, 3.0, 300),
                          "n": rng.randint(0, 50, 300), "c": pd.Categorical(rng.choice(["x", "y"], 300))})
    vae = VAETransformer(hidden_layer_sizes=(16,), max_iter=3, random_state=0).fit(frame)
    rows, held, peak = _traced_sample(vae, 100_000)
    assert peak < 3.1 * rows.shape[0] * rows.shape[1] * 8
    # Each column its own: a view of the decoded values kept all of them alive with the frame.
    assert held < 1.2 * rows.memory_usage(index=False).sum()
    assert list(rows.dtypes) == list(frame.dtypes)
    # Float64 columns alone too, and each contiguous: as strided views of the decoded values, a
    # 64-column frame's mean() took 116 ms where its own columns take 10.
    wide = pd.DataFrame(rng.normal(size=(300, 8)), columns=list("abcdefgh"))
    rows, held, _ = _traced_sample(VAETransformer(hidden_layer_sizes=(16,), max_iter=3, random_state=0).fit(wide), 100_000)
    assert held < 1.2 * rows.memory_usage(index=False).sum()
    assert all(rows[name].to_numpy().flags["C_CONTIGUOUS"] for name in rows.columns)
