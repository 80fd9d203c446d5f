"""HierarchicalVAETransformer: layers of codes, ancestral sampling, bounds, persistence, errors."""

import pickle

import numpy as np
import pandas as pd
import pytest
import torch
from conftest import run_script

import skvae
from skvae import HierarchicalVAETransformer, VAETransformer
from skvae.nn.hierarchical import LadderLatent, gaussian_kl, precision_weighted

FAST = {"hidden_layer_sizes": (16,), "max_iter": 3, "likelihood": "bernoulli", "random_state": 0}


@pytest.fixture(scope="module")
def X(digits):
    return digits[0][:300]


@pytest.fixture(scope="module")
def fitted(X):
    return HierarchicalVAETransformer((4, 3, 2), **FAST).fit(X)


def _copy(fitted, **params):
    """A fitted copy with other parameters; ``fitted`` stays as it is for the other tests."""
    return pickle.loads(pickle.dumps(fitted)).set_params(**params)


def test_transform_is_every_layers_mean_bottom_first(fitted, X):
    codes = fitted.transform(X)
    assert codes.shape == (300, 9) and codes.dtype == np.float64
    assert [kl.shape for kl in fitted.kl_per_dim_] == [(4,), (3,), (2,)]
    assert len(fitted.n_active_units_) == 3 and all(isinstance(n, int) for n in fitted.n_active_units_)
    for layer, columns in [(0, slice(0, 4)), (1, slice(4, 7)), (2, slice(7, 9)), (-1, slice(7, 9))]:
        one = _copy(fitted, transform_layer=layer)
        np.testing.assert_array_equal(one.transform(X), codes[:, columns])
    # The top layer's mean is its bottom-up estimate; a lower layer's leans on the layer above.
    latent = fitted.network_.latent
    with torch.no_grad():
        features = fitted.network_.encoder(torch.as_tensor(X[:5], dtype=torch.float32))
        estimates = latent(features)
    np.testing.assert_allclose(codes[:5, 7:], estimates[-1][0].numpy(), rtol=1e-5, atol=1e-6)
    assert not np.allclose(codes[:5, :4], estimates[0][0].numpy(), atol=1e-3)


def test_same_seed_same_model_and_rows_are_independent(fitted, X):
    again = HierarchicalVAETransformer((4, 3, 2), **FAST).fit(X)
    for method in (lambda m: m.transform(X), lambda m: m.score_samples(X, n_importance=3),
                   lambda m: m.sample(5, random_state=1)):
        np.testing.assert_array_equal(method(again), method(fitted))
    np.testing.assert_array_equal(fitted.transform(X[17:19]), fitted.transform(X)[17:19])
    for k in (1, 5):
        np.testing.assert_array_equal(fitted.score_samples(X[40:41], n_importance=k),
                                      fitted.score_samples(X, n_importance=k)[40:41])
    assert not np.array_equal(fitted.sample(5, random_state=1), fitted.sample(5, random_state=2))


def test_iwae_tightens_the_elbo_and_score_is_the_elbo(fitted, X):
    elbo = fitted.score_samples(X)
    assert np.all(np.isfinite(elbo)) and fitted.score(X) == pytest.approx(elbo.mean())
    iwae = [fitted.score_samples(X, n_importance=k).mean() for k in (1, 10, 50)]
    assert elbo.mean() <= iwae[1] <= iwae[2] and iwae[0] == pytest.approx(elbo.mean())


def test_elbo_matches_an_independent_monte_carlo_estimate(digits):
    # The bound's ELBO uses analytic KLs given the drawn layer above; a plain
    # Monte-Carlo estimate of E_q[log p(x, z) - log q(z | x)] must agree.
    X = digits[0][:100]
    model = HierarchicalVAETransformer((3, 2), **dict(FAST, max_iter=10))
    model.fit(X)
    network, latent = model.network_, model.network_.latent
    x = torch.as_tensor(X, dtype=torch.float32)
    generator = torch.Generator().manual_seed(0)

    def normal_log_prob(z, mu, log_var):
        return torch.distributions.Normal(mu, torch.exp(0.5 * log_var)).log_prob(z).sum(-1)

    def draw(layer, posterior):
        mu, log_var = posterior
        return mu + torch.exp(0.5 * log_var) * torch.randn((2000, *mu.shape[-2:]), generator=generator)

    with torch.no_grad():
        (z1, z2), (q1, q2), (p1, _) = latent.top_down(network.encode(x), draw)
        decoded = network.decode(torch.cat([z1, z2], -1).reshape(-1, 5))  # the decoder reads every layer
        log_px = network.likelihood.log_prob(x.repeat(2000, 1), decoded).reshape(2000, -1)
        log_w = (log_px + normal_log_prob(z2, 0.0, torch.zeros(()))
                 + normal_log_prob(z1, *p1) - normal_log_prob(z1, *q1) - normal_log_prob(z2, *q2))
    # score_samples averages a few keyed draws per row: agreement to 0.2 nats, where a
    # missing or doubled layer KL would be off by nats.
    np.testing.assert_allclose(model.score_samples(X).mean(), log_w.mean().item(), atol=0.2)


def test_precision_weighting_and_kl_against_closed_forms():
    estimate = (torch.tensor([1.0, 0.0]), torch.log(torch.tensor([1.0, 1e-30])))
    prior = (torch.tensor([3.0, 5.0]), torch.log(torch.tensor([3.0, 1.0])))
    mu, log_var = precision_weighted(estimate, prior)
    # 1/var = 1/1 + 1/3; mean = var * (1/1 + 3/3); a near-exact estimate wins outright.
    torch.testing.assert_close(mu, torch.tensor([1.5, 0.0]))
    torch.testing.assert_close(log_var[0], torch.log(torch.tensor(0.75)))
    kl = gaussian_kl((torch.tensor([0.5]), torch.tensor([0.0])), (torch.tensor([0.0]), torch.tensor([0.0])))
    torch.testing.assert_close(kl, torch.tensor([0.125]))
    with pytest.raises(ValueError, match="at least two layers"):
        LadderLatent(8, (3,))


def test_sample_is_ancestral_from_the_top_prior(fitted):
    latent = fitted.network_.latent
    noise = np.random.RandomState(3).standard_normal((4, latent.latent_dim))
    with torch.no_grad():
        z = torch.as_tensor(noise, dtype=torch.float32)
        z3 = z[:, 7:]
        mu, log_var = latent.prior(1, z3)
        z2 = mu + torch.exp(0.5 * log_var) * z[:, 4:7]
        mu, log_var = latent.prior(0, z2)
        z1 = mu + torch.exp(0.5 * log_var) * z[:, :4]
    codes = np.c_[z1.numpy(), z2.numpy(), z3.numpy()]
    # Sampled rows stay within each column's training range.
    expected = np.clip(fitted.inverse_transform(codes), fitted._schema.clipped(np.full((1, 64), -np.inf)),
                       fitted._schema.clipped(np.full((1, 64), np.inf)))
    np.testing.assert_allclose(fitted.sample(4, random_state=3, from_likelihood=False), expected, rtol=1e-5)


def test_inverse_transform_reads_every_layer_or_maps_a_layer_down(fitted, X):
    codes = fitted.transform(X[:6])
    decoded = fitted.inverse_transform(codes)
    assert decoded.shape == (6, 64) and np.all((decoded >= 0) & (decoded <= 1))
    shuffled_upper = codes.copy()
    shuffled_upper[:, 4:] = np.random.RandomState(0).normal(size=(6, 5))
    assert not np.allclose(fitted.inverse_transform(shuffled_upper), decoded)  # the upper layers reach x
    top = _copy(fitted, transform_layer=-1)
    z_top = top.transform(X[:6])
    latent = fitted.network_.latent
    with torch.no_grad():
        z2, _ = latent.prior(1, torch.as_tensor(z_top, dtype=torch.float32))
        z1, _ = latent.prior(0, z2)
    expected = fitted.inverse_transform(np.c_[z1.numpy(), z2.numpy(), z_top])
    np.testing.assert_allclose(top.inverse_transform(z_top), expected, rtol=1e-5)
    with pytest.raises(ValueError, match=r"codes of layer transform_layer=-1, with latent_dims\[2\]=2 columns"):
        top.inverse_transform(codes)


def test_pickle_and_save_load_round_trips_are_bitwise(fitted, X, tmp_path):
    fitted.save(tmp_path / "hvae.skvae")
    for restored in (pickle.loads(pickle.dumps(fitted)), skvae.load(tmp_path / "hvae.skvae")):
        assert type(restored) is HierarchicalVAETransformer
        np.testing.assert_array_equal(restored.transform(X), fitted.transform(X))
        np.testing.assert_array_equal(restored.score_samples(X, n_importance=4), fitted.score_samples(X, n_importance=4))
        np.testing.assert_array_equal(restored.sample(3, random_state=0), fitted.sample(3, random_state=0))
        for kl, expected in zip(restored.kl_per_dim_, fitted.kl_per_dim_):
            np.testing.assert_array_equal(kl, expected)
        assert restored.n_active_units_ == fitted.n_active_units_
        middle, expected = restored.set_params(transform_layer=1), _copy(fitted, transform_layer=1)
        np.testing.assert_array_equal(middle.inverse_transform(middle.transform(X[:3])),
                                      expected.inverse_transform(expected.transform(X[:3])))


@pytest.mark.usefixtures("one_onnx_operator_table")
def test_exports_honour_transform_layer(fitted, X, tmp_path):
    layer = _copy(fitted, transform_layer=0)
    x = torch.as_tensor(X[:4], dtype=torch.float32)
    with torch.no_grad():
        np.testing.assert_allclose(layer.to_torch()(x).numpy(), layer.transform(X[:4]), rtol=1e-5, atol=1e-6)
    ort = pytest.importorskip("onnxruntime")
    pytest.importorskip("onnxscript")
    top = _copy(fitted, transform_layer=-1)
    for method, inputs in (("transform", X[:5]), ("inverse_transform", top.transform(X[:5]))):
        session = ort.InferenceSession(str(top.to_onnx(tmp_path / f"{method}.onnx", method=method)))
        (out,) = session.run(None, {session.get_inputs()[0].name: inputs.astype(np.float32)})
        np.testing.assert_allclose(out, getattr(top, method)(inputs), rtol=1e-5, atol=1e-5)


def test_convolutional_pandas_and_per_layer_free_bits(X):
    model = HierarchicalVAETransformer(
        (4, 2), image_shape=(8, 8), conv_channels=(4,), free_bits=(0.0, 0.5), **FAST
    ).set_output(transform="pandas")
    codes = model.fit_transform(pd.DataFrame(X))
    assert isinstance(codes, pd.DataFrame) and codes.shape == (300, 6)
    assert list(codes.columns) == [f"hierarchicalvaetransformer{i}" for i in range(6)]
    assert model.sample(2, random_state=0).shape == (2, 64)


def test_a_layers_columns_keep_their_names_from_the_whole_code(fitted, X):
    model = _copy(fitted)
    dims = list(model.latent_dims)
    whole = list(model.get_feature_names_out())
    assert whole == [f"hierarchicalvaetransformer{i}" for i in range(sum(dims))]
    # Layer 1's columns were named ...0, ...1, ..., as layer 0's first ones.
    starts = np.cumsum([0, *dims])
    for layer in (0, 1, -1):
        columns = slice(starts[layer % len(dims)], starts[layer % len(dims) + 1])
        model.set_params(transform_layer=layer)
        assert list(model.get_feature_names_out()) == whole[columns]
        assert list(model.set_output(transform="pandas").transform(X[:2]).columns) == whole[columns]


def test_free_bits_on_the_top_layer_keep_it_active(digits):
    X = digits[0][:600]
    params = dict(FAST, max_iter=15, hidden_layer_sizes=(32,))
    plain = HierarchicalVAETransformer((4, 4), **params).fit(X)
    floored = HierarchicalVAETransformer((4, 4), free_bits=(0.0, 1.0), **params).fit(X)
    assert floored.n_active_units_[1] > plain.n_active_units_[1] or floored.n_active_units_[1] == 4
    assert floored.kl_per_dim_[1].sum() > plain.kl_per_dim_[1].sum()


@pytest.mark.parametrize(
    "params, message",
    [
        ({"latent_dims": (5,)}, r"gives one latent layer; a hierarchical VAE needs at least two.*VAETransformer\(latent_dim=5\)"),
        # An int was refused by the parameter check, "must be an array-like", which said neither.
        ({"latent_dims": 3}, r"latent_dims=3 gives one latent layer; .*e.g. \(3, 1\).*VAETransformer\(latent_dim=3\)"),
        ({"latent_dims": (4, 0)}, "latent_dims"),
        ({"free_bits": (0.1, 0.2, 0.3)}, r"one per layer of latent_dims=\(4, 2\) \(2 values, bottom first\)"),
        ({"free_bits": (0.1, -1.0)}, "must be one non-negative number"),
        ({"transform_layer": 2}, r"transform_layer=2 names no layer of latent_dims=\(4, 2\)"),
    ],
)
def test_bad_parameters_are_clear_errors_and_change_nothing(fitted, X, params, message):
    model = _copy(fitted, latent_dims=(4, 2))
    before = fitted.transform(X)
    with pytest.raises(ValueError, match=message):
        model.set_params(**params).fit(X)
    model.set_params(latent_dims=(4, 3, 2), free_bits=0.0, transform_layer=None)
    np.testing.assert_array_equal(model.transform(X), before)


def test_warm_start_refuses_new_latent_dims(fitted, X):
    model = _copy(fitted, warm_start=True, latent_dims=(4, 2))
    before = fitted.transform(X)
    with pytest.raises(ValueError, match="latent_dims"):
        model.fit(X)
    np.testing.assert_array_equal(model.set_params(latent_dims=(4, 3, 2)).transform(X), before)


def test_same_total_size_as_the_one_layer_vae(X):
    vae = VAETransformer(6, **FAST).fit(X)
    hvae = HierarchicalVAETransformer((4, 2), **FAST).fit(X)
    assert hvae.transform(X).shape == vae.transform(X).shape
    assert hvae.inverse_transform(hvae.transform(X[:2])).shape == vae.inverse_transform(vae.transform(X[:2])).shape


def test_benchmark_quick_run(tmp_path):
    completed = run_script("hierarchical", "--quick", "--output", tmp_path)
    assert completed.returncode == 0, completed.stderr[-2000:]
    results = pd.read_csv(tmp_path / "hierarchical.csv")
    assert set(results["dataset"]) == {"digits 8x8", "digits 28x28"} and len(results) == 8
    assert np.all(np.isfinite(results["test_iwae4"])) and "| dataset | model |" in completed.stdout
