"""Encoder and decoder networks: torch modules only, no numpy, no scikit-learn.

Weights are initialised from an explicit ``torch.Generator``: torch's default
``nn.Linear`` initialisation draws from the global RNG, which the estimators
must never touch.
"""

import math

from torch import nn

ACTIVATIONS = {
    "identity": nn.Identity,
    "logistic": nn.Sigmoid,
    "tanh": nn.Tanh,
    "relu": nn.ReLU,
}


def _glorot_linear(n_in, n_out, activation, generator):
    # The initialisation scikit-learn's MLP uses (Glorot & Bengio 2010), with
    # its larger factor for the logistic activation; biases start at zero.
    layer = nn.utils.skip_init(nn.Linear, n_in, n_out)
    factor = 2.0 if activation == "logistic" else 6.0
    bound = math.sqrt(factor / (n_in + n_out))
    layer.weight.detach().uniform_(-bound, bound, generator=generator)
    layer.bias.detach().zero_()
    return layer


def mlp(layer_sizes, activation, generator):
    """Affine layers of the given sizes with ``activation`` between them (not after the last).

    ``mlp([a, b])`` is a single affine map, so an empty hidden-layer list
    gives a linear encoder or decoder.
    """
    layers = []
    for index, (n_in, n_out) in enumerate(zip(layer_sizes[:-1], layer_sizes[1:])):
        if index:
            layers.append(ACTIVATIONS[activation]())
        layers.append(_glorot_linear(n_in, n_out, activation, generator))
    return nn.Sequential(*layers)


class Autoencoder(nn.Module):
    """Deterministic encoder x -> z and decoder z -> parameters of p(x | z).

    The decoder mirrors the encoder's hidden layers in reverse order.
    ``likelihood`` turns decoder outputs into log-likelihoods and means.
    """

    def __init__(self, n_features, latent_dim, hidden_layer_sizes, activation, likelihood, generator):
        super().__init__()
        hidden = list(hidden_layer_sizes)
        self.latent_dim = latent_dim
        self.encoder = mlp([n_features, *hidden, self._encoder_width(latent_dim)], activation, generator)
        self.decoder = mlp([latent_dim, *reversed(hidden), n_features], activation, generator)
        self.likelihood = likelihood

    @staticmethod
    def _encoder_width(latent_dim):
        return latent_dim

    def encode(self, x):
        """The code z of each row."""
        return self.encoder(x)

    def decode(self, z):
        """The decoder's output for each code: the likelihood's parameters."""
        return self.decoder(z)


class VariationalAutoencoder(Autoencoder):
    """Gaussian encoder q(z | x) = N(mu(x), diag(exp(log_var(x)))) and decoder p(x | z).

    One affine head gives both mu and log_var, so encoding costs a single
    matrix product per layer.
    """

    @staticmethod
    def _encoder_width(latent_dim):
        return 2 * latent_dim

    def encode(self, x):
        """``(mu, log_var)`` of q(z | x) for each row."""
        mu, log_var = self.encoder(x).chunk(2, dim=-1)
        return mu, log_var
