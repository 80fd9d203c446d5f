"""The torch parts (skvae/nn): layers, encoders, decoders, latents and the model."""

import pytest
import torch

from skvae.nn import (
    ACTIVATIONS,
    Batch,
    ColumnCodec,
    ConvDecoder,
    ConvEncoder,
    GaussianLatent,
    Linear,
    MLPDecoder,
    MLPEncoder,
    VariationalModel,
)
from skvae.nn.encoders import output_width
from skvae.nn.layers import all_finite, glorot_bound


def _generator(seed=0):
    return torch.Generator().manual_seed(seed)


def _all_modules():
    g = _generator()
    return {
        "mlp_encoder": (MLPEncoder(6, (5, 3), "tanh", generator=g), 6),
        "mlp_decoder": (MLPDecoder(2, 6, (3, 5), "relu", generator=g), 2),
        "conv_encoder": (ConvEncoder((1, 8, 8), (4, 8), (16,), "relu", generator=g), 64),
        "conv_decoder": (ConvDecoder(3, 2 * 7 * 9, (2, 7, 9), (4, 8), (16,), "relu", generator=g), 3),
    }


@pytest.mark.parametrize("name", list(_all_modules()))
def test_evaluation_is_the_same_under_no_grad_and_inference_mode(name):
    # The padded evaluation follows module.eval(), not torch's global flags.
    module, width = _all_modules()[name]
    module.eval()
    x = torch.rand(37, width, generator=_generator(1))
    with torch.no_grad():
        no_grad = module(x)
    with torch.inference_mode():
        inference = module(x)
    assert torch.equal(no_grad, inference)
    # Training mode computes the same function, without the padding.
    module.train()
    with torch.no_grad():
        torch.testing.assert_close(module(x), no_grad, rtol=1e-5, atol=1e-6)


@pytest.mark.parametrize("name", list(_all_modules()))
def test_a_rows_output_does_not_depend_on_its_position_in_the_batch(name):
    module, width = _all_modules()[name]
    module.eval()
    x = torch.rand(1024, width, generator=_generator(2))
    order = torch.randperm(1024, generator=_generator(3))
    with torch.no_grad():
        assert torch.equal(module(x)[order], module(x[order]))
        assert torch.equal(module(torch.roll(x, 1, 0)), torch.roll(module(x), 1, 0))


@pytest.mark.parametrize("width", [1, 5, 16, 17])
def test_linear_pads_narrow_widths_only_in_evaluation(width):
    layer = Linear(width, 3, generator=_generator())
    x = torch.rand(1024, width, generator=_generator(1))
    layer.eval()
    with torch.no_grad():
        shifted = layer(torch.roll(x, 1, 0))
        assert torch.equal(torch.roll(layer(x), 1, 0), shifted)
        torch.testing.assert_close(layer.train()(x), layer.eval()(x))
    # Gradients flow in both modes, and are the product's own: d sum(x W^T + b) / dW = x's column sums.
    for mode in (layer.train, layer.eval):
        layer.weight.grad = None
        mode()(x).sum().backward()
        torch.testing.assert_close(layer.weight.grad, x.sum(0).expand(3, -1))


def test_initialisation_uses_only_the_given_generator():
    state = torch.get_rng_state()
    a = MLPEncoder(6, (5,), "relu", generator=_generator(3))
    b = MLPEncoder(6, (5,), "relu", generator=_generator(3))
    ConvEncoder((1, 8, 8), (4,), (), "relu", generator=_generator(3))
    assert torch.equal(state, torch.get_rng_state())
    for (name, p), q in zip(a.state_dict().items(), b.state_dict().values()):
        assert torch.equal(p, q), name
    # Glorot-uniform weights within scikit-learn's bound, zero biases.
    layer = a.layers[0]
    assert layer.weight.abs().max() <= glorot_bound(6, 5, "relu")
    assert torch.equal(layer.bias, torch.zeros(5))
    assert glorot_bound(6, 5, "logistic") < glorot_bound(6, 5, "relu")  # factor 2 against 6


def test_mlp_shapes_and_the_linear_case():
    assert MLPEncoder(10, (8, 4), "tanh", generator=_generator()).out_features == 4
    identity = MLPEncoder(10, (), "relu", generator=_generator())
    assert identity.out_features == 10 and len(identity.layers) == 0
    decoder = MLPDecoder(3, 10, (), "relu", generator=_generator())
    assert len(decoder.layers) == 1  # one affine map, no activation
    assert decoder(torch.ones(2, 3)).shape == (2, 10)
    assert all(p.dtype == torch.float32 for p in decoder.parameters())


@pytest.mark.parametrize("image_shape", [(1, 28, 28), (1, 8, 8), (3, 7, 9), (2, 5, 4)])
def test_conv_decoder_mirrors_the_encoder_for_any_image_size(image_shape):
    channels, height, width = image_shape
    n_features = channels * height * width
    encoder = ConvEncoder(image_shape, (4, 8), (16,), "relu", generator=_generator())
    decoder = ConvDecoder(2, n_features, image_shape, (4, 8), (16,), "relu", generator=_generator())
    assert encoder(torch.rand(3, n_features)).shape == (3, 16)
    assert decoder(torch.rand(3, 2)).shape == (3, n_features)
    # Two parameters per pixel (e.g. mean and scale) give twice the channels.
    two = ConvDecoder(2, 2 * n_features, image_shape, (4,), (), "relu", generator=_generator())
    assert two(torch.rand(3, 2)).shape == (3, 2 * n_features)


def test_gaussian_latent_and_model_assemble():
    g = _generator()
    model = VariationalModel(
        ColumnCodec(["gaussian"] * 6, noise_variance="per_feature"),
        MLPEncoder(6, (5,), "relu", generator=g),
        GaussianLatent(5, 3, generator=g),
        MLPDecoder(3, 6, (5,), "relu", generator=g),
    )
    x = torch.randn(4, 6, generator=g)
    mu, log_var = model.encode(x)
    assert mu.shape == log_var.shape == (4, 3) and model.latent_dim == 3
    assert torch.equal(model.code(Batch(x)), mu)
    assert model.decode(mu).shape == (4, 6)
    terms = model.loss_terms(Batch(x), _generator(1), kl_weight=1.0)
    assert list(terms) == ["kl", "reconstruction"]
    loss = terms["kl"] + terms["reconstruction"]
    loss.backward()
    assert loss.dim() == 0 and all(p.grad is not None for p in model.parameters())
    # The ELBO is the mean over draws of log p(x | z) minus the KL.
    noise = torch.randn(4, 4, 3, generator=g)
    with torch.no_grad():
        elbo = model.bound(Batch(x), noise)
        z = mu + torch.exp(0.5 * log_var) * noise
        log_px = model.columns.log_prob(x, model.decode(z))
        expected = log_px.mean(0) - model.latent.kl((mu, log_var)).sum(-1)
    # The bound's arithmetic after the networks is in float64.
    assert elbo.dtype == torch.float64
    torch.testing.assert_close(elbo, expected.double(), rtol=1e-5, atol=1e-5)


class _Doubles(torch.nn.Module):
    def __init__(self, in_features):
        super().__init__()
        self.layer = torch.nn.Linear(in_features, 4, dtype=torch.float64)

    def forward(self, x):
        return self.layer(x.double())


def test_output_width_checks_shape_and_dtype():
    assert output_width(torch.nn.Linear(5, 7), 5, "encoder") == 7
    with pytest.raises(ValueError, match=r"encoder must compute in float32.*float64"):
        output_width(_Doubles(5), 5, "encoder")
    with pytest.raises(ValueError, match=r"failed on a float32 CPU tensor of shape \(2, 5\)"):
        output_width(torch.nn.Linear(3, 7), 5, "decoder")
    with pytest.raises(ValueError, match=r"shape \(batch, n_outputs\).*\(2, 7, 1\)"):
        output_width(torch.nn.Unflatten(1, (7, 1)), 7, "decoder")


@pytest.mark.parametrize("activation", ACTIVATIONS)
def test_every_activation_trains(activation):
    encoder = MLPEncoder(4, (3,), activation, generator=_generator())
    x = torch.randn(5, 4, generator=_generator(1), requires_grad=True)
    encoder(x).sum().backward()
    assert torch.isfinite(x.grad).all()


@pytest.mark.parametrize("dtype", [torch.float16, torch.float32, torch.float64])
def test_all_finite_reads_a_sum_that_overflows_on_finite_entries_as_finite(dtype):
    # The sum is the fast test (a NaN or an infinity makes it non-finite); finite entries whose
    # sum overflows must still read as finite, and every NaN or infinity as not.
    huge = torch.full((64, 8), torch.finfo(dtype).max / 2, dtype=dtype)
    assert not torch.isfinite(huge.sum()) and all_finite(huge)
    for bad in (float("nan"), float("inf"), -float("inf")):
        for values in (huge.clone(), torch.zeros((64, 8), dtype=dtype)):
            values[5, 3] = bad
            assert not all_finite(values)
    assert all_finite(torch.zeros(0, dtype=dtype))
