"""Encoder and decoder networks (skvae/_networks.py)."""

import pytest
import torch

from skvae._networks import ACTIVATIONS, MLP, Autoencoder, VariationalAutoencoder


def _reference_forward(mlp, x):
    """The same network through plain autograd: nn.functional ops, one per layer."""
    functions = {"relu": torch.relu, "tanh": torch.tanh, "logistic": torch.sigmoid, "identity": lambda h: h}
    for index, layer in enumerate(mlp):
        x = torch.nn.functional.linear(x, layer.weight, layer.bias)
        if index < len(mlp) - 1:
            x = functions[mlp.activation](x)
    return x


@pytest.mark.parametrize("activation", ACTIVATIONS)
def test_mlp_backward_matches_autograd(activation):
    generator = torch.Generator().manual_seed(0)
    mlp = MLP([5, 7, 6, 3], activation, generator).double()
    x = torch.randn(4, 5, dtype=torch.double, generator=generator, requires_grad=True)
    params = [t for layer in mlp for t in (layer.weight, layer.bias)]
    assert torch.autograd.gradcheck(lambda x, *p: mlp(x), (x, *params))
    # And against the layer-by-layer autograd graph, on a loss.
    weights = torch.randn(4, 3, dtype=torch.double, generator=generator)
    ours = torch.autograd.grad((mlp(x) * weights).sum(), (x, *params))
    reference = torch.autograd.grad((_reference_forward(mlp, x) * weights).sum(), (x, *params))
    for a, b in zip(ours, reference):
        torch.testing.assert_close(a, b)


def test_mlp_takes_leading_dimensions_as_rows():
    mlp = MLP([3, 4, 2], "tanh", torch.Generator().manual_seed(0))
    x = torch.randn(5, 6, 3)
    torch.testing.assert_close(mlp(x), _reference_forward(mlp, x))
    assert mlp(x[0, 0]).shape == (2,)


def test_mlp_input_gradient_only_when_needed():
    mlp = MLP([3, 4, 2], "relu", torch.Generator().manual_seed(0))
    x = torch.randn(5, 3)
    mlp(x).sum().backward()
    assert x.grad is None and all(layer.weight.grad is not None for layer in mlp)


def test_mlp_layers_and_linear_case():
    generator = torch.Generator().manual_seed(0)
    mlp = MLP([10, 8, 4], "tanh", generator)
    assert [tuple(layer.weight.shape) for layer in mlp] == [(8, 10), (4, 8)]
    assert len(MLP([10, 4], "relu", generator)) == 1  # no hidden layers: one affine map
    with torch.no_grad():  # inference runs the same node without a graph
        assert MLP([10, 4], "relu", generator)(torch.ones(2, 10)).shape == (2, 4)


def test_initialisation_uses_only_the_given_generator():
    state = torch.get_rng_state()
    a = Autoencoder(6, 2, (5,), "relu", torch.nn.Identity(), torch.Generator().manual_seed(3))
    b = Autoencoder(6, 2, (5,), "relu", torch.nn.Identity(), torch.Generator().manual_seed(3))
    assert torch.equal(state, torch.get_rng_state())
    for (name, p), q in zip(a.state_dict().items(), b.state_dict().values()):
        assert torch.equal(p, q), name
    # Glorot-uniform weights within their bound, zero biases.
    layer = a.encoder[0]
    assert layer.weight.abs().max() <= (6 / (6 + 5)) ** 0.5 and torch.equal(layer.bias, torch.zeros(5))


def test_variational_encoder_returns_mean_and_log_variance():
    network = VariationalAutoencoder(6, 3, (5,), "relu", torch.nn.Identity(), torch.Generator().manual_seed(0))
    mu, log_var = network.encode(torch.randn(4, 6))
    assert mu.shape == log_var.shape == (4, 3)
    assert network.decode(mu).shape == (4, 6)
