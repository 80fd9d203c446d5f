"""Encoder and decoder networks: torch modules only, no numpy, no scikit-learn.

Weights are initialised from an explicit ``torch.Generator``: torch's default
``nn.Linear`` initialisation draws from the global RNG, which the estimators
must never touch.
"""

import math

import torch
from torch import nn

ACTIVATIONS = ("identity", "logistic", "tanh", "relu")

# Evaluation pads every layer's width to a multiple of this. For narrow or
# odd widths MKL vectorises a matrix product across rows, and a row's last
# bits then depend on its position in the batch (measured: 200 of 300 rows
# of a 5-feature linear encoder changed when shifted by one row). At
# multiples of 8 no shape from 1 to 784 did; 16 covers AVX-512 kernels too.
_EVAL_WIDTH_MULTIPLE = 16


def _glorot_linear(n_in, n_out, activation, generator):
    # The initialisation scikit-learn's MLP uses (Glorot & Bengio 2010), with
    # its larger factor for the logistic activation; biases start at zero.
    layer = nn.utils.skip_init(nn.Linear, n_in, n_out, dtype=torch.float32)
    factor = 2.0 if activation == "logistic" else 6.0
    bound = math.sqrt(factor / (n_in + n_out))
    layer.weight.detach().uniform_(-bound, bound, generator=generator)
    layer.bias.detach().zero_()
    return layer


def _activate_(h, activation):
    if activation == "relu":
        return h.clamp_min_(0.0)
    if activation == "tanh":
        return h.tanh_()
    if activation == "logistic":
        return h.sigmoid_()
    return h


def _activation_backward(grad, output, activation):
    """``grad`` times the activation's derivative, written in terms of its output.

    These are the single-pass kernels autograd itself uses for these
    activations; masking with a boolean tensor instead costs ten times more.
    """
    aten = torch.ops.aten
    if activation == "relu":
        return aten.threshold_backward(grad, output, 0.0)
    if activation == "tanh":
        return aten.tanh_backward(grad, output)
    if activation == "logistic":
        return aten.sigmoid_backward(grad, output)
    return grad


def _affine_layers(x, activation, weights, biases):
    """The forward pass: the output and each activated hidden layer."""
    hidden, h = [], x
    for index, (weight, bias) in enumerate(zip(weights, biases)):
        h = torch.addmm(bias, h, weight.t())
        if index < len(weights) - 1:
            h = _activate_(h, activation)
            hidden.append(h)
    return h, hidden


class _MLPFunction(torch.autograd.Function):
    """A whole MLP as one autograd node, with its backward written as matrix products.

    Autograd's bookkeeping costs a fixed time per node: for a layer of a
    few hundred units at a minibatch of 128 rows, an addmm, an activation
    and their backward nodes cost about as much in overhead as in
    arithmetic. One node per MLP removes most of that; the activations are
    applied in place and differentiated by autograd's own kernels. ``params``
    alternates weights (out, in) and biases (out,), as ``nn.Linear`` holds
    them.
    """

    @staticmethod
    def forward(ctx, x, activation, *params):
        weights = params[0::2]
        out, hidden = _affine_layers(x, activation, weights, params[1::2])
        ctx.activation = activation
        ctx.save_for_backward(x, *hidden, *weights)
        return out

    @staticmethod
    def backward(ctx, grad):
        saved = ctx.saved_tensors
        n_layers = (len(saved) + 1) // 2
        inputs, weights = saved[:n_layers], saved[n_layers:]
        param_grads = [None] * (2 * n_layers)
        for index in range(n_layers - 1, -1, -1):
            param_grads[2 * index] = grad.t().mm(inputs[index])
            param_grads[2 * index + 1] = grad.sum(0)
            if index > 0:
                grad = _activation_backward(grad.mm(weights[index]), inputs[index], ctx.activation)
            elif ctx.needs_input_grad[0]:
                grad = grad.mm(weights[index])
            else:
                grad = None
        return (grad, None, *param_grads)


def _padded_width(n):
    return -(-n // _EVAL_WIDTH_MULTIPLE) * _EVAL_WIDTH_MULTIPLE


def _zero_padded(tensor, shape):
    if tuple(tensor.shape) == shape:
        return tensor
    padded = tensor.new_zeros(shape)
    padded[tuple(slice(0, n) for n in tensor.shape)] = tensor
    return padded


def _position_invariant_forward(x, activation, params):
    """The MLP's forward pass with every width zero-padded (see ``_EVAL_WIDTH_MULTIPLE``).

    Padded units get zero weights and biases, and the next layer reads them
    with zero weights, so they add exact zeros to the real units.
    """
    weights, biases = params[0::2], params[1::2]
    widths = [_padded_width(x.shape[1]), *(_padded_width(w.shape[0]) for w in weights)]
    out, _ = _affine_layers(
        _zero_padded(x, (x.shape[0], widths[0])),
        activation,
        [_zero_padded(w, shape) for w, shape in zip(weights, zip(widths[1:], widths[:-1]))],
        [_zero_padded(b, (width,)) for b, width in zip(biases, widths[1:])],
    )
    return out[:, : weights[-1].shape[0]]


class MLP(nn.Sequential):
    """Affine layers of the given sizes with ``activation`` between them (not after the last).

    Holds ``nn.Linear`` layers only; the forward pass runs them, and the
    activations, through a single autograd node. Under
    ``torch.inference_mode`` it runs on zero-padded widths instead, so that
    each row's output is bitwise the same wherever the row sits in a batch. ``MLP([a, b])`` is one
    affine map, so an empty hidden-layer list gives a linear encoder or
    decoder.
    """

    def __init__(self, layer_sizes, activation, generator):
        super().__init__(
            *(
                _glorot_linear(n_in, n_out, activation, generator)
                for n_in, n_out in zip(layer_sizes[:-1], layer_sizes[1:])
            )
        )
        self.activation = activation

    def forward(self, x):
        params = [tensor for layer in self for tensor in (layer.weight, layer.bias)]
        # Leading dimensions are rows, as for nn.Linear.
        rows = x.reshape(-1, x.shape[-1])
        if torch.is_inference_mode_enabled():
            out = _position_invariant_forward(rows, self.activation, params)
        else:
            out = _MLPFunction.apply(rows, self.activation, *params)
        return out.reshape(*x.shape[:-1], out.shape[-1])


class Autoencoder(nn.Module):
    """Deterministic encoder x -> z and decoder z -> parameters of p(x | z).

    The decoder mirrors the encoder's hidden layers in reverse order.
    ``likelihood`` turns decoder outputs into log-likelihoods and means.
    """

    def __init__(self, n_features, latent_dim, hidden_layer_sizes, activation, likelihood, generator):
        super().__init__()
        hidden = list(hidden_layer_sizes)
        self.latent_dim = latent_dim
        self.encoder = MLP([n_features, *hidden, self._encoder_width(latent_dim)], activation, generator)
        self.decoder = MLP([latent_dim, *reversed(hidden), n_features], activation, generator)
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
