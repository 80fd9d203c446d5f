"""Building blocks: a dense layer whose evaluation is row-invariant, activations, initialisation.

Every weight here is initialised from an explicit ``torch.Generator``:
torch's default initialisation draws from the global RNG, which skvae
must never touch.
"""

import math

import torch
from torch import nn
from torch.nn import functional as F

ACTIVATIONS = ("identity", "logistic", "tanh", "relu")

_ACTIVATION_MODULES = {
    "identity": nn.Identity,
    "logistic": nn.Sigmoid,
    "tanh": nn.Tanh,
    "relu": nn.ReLU,
}

# In evaluation mode, Linear pads its widths to a multiple of this. For
# narrow or odd widths MKL vectorises a matrix product across rows, and a
# row's last bits then depend on its position in the batch (measured: 200
# of 300 rows of a 5-feature linear encoder changed when shifted by one
# row). At multiples of 8 no shape from 1 to 784 did; 16 covers AVX-512.
_EVAL_WIDTH_MULTIPLE = 16


def activation_layer(name):
    """A fresh module for the activation called ``name`` (one of ``ACTIVATIONS``)."""
    return _ACTIVATION_MODULES[name]()


def glorot_bound(fan_in, fan_out, activation_name):
    """The bound of scikit-learn's MLP initialisation (Glorot & Bengio 2010).

    scikit-learn uses the factor 2 for the logistic activation and 6
    otherwise: the logistic's slope at 0 is a quarter of tanh's, so its
    weights start smaller.
    """
    factor = 2.0 if activation_name == "logistic" else 6.0
    return math.sqrt(factor / (fan_in + fan_out))


def init_glorot_(module, fan_in, fan_out, activation_name, generator):
    """Uniform Glorot weights and zero bias, in place, from ``generator``."""
    bound = glorot_bound(fan_in, fan_out, activation_name)
    module.weight.detach().uniform_(-bound, bound, generator=generator)
    if module.bias is not None:
        module.bias.detach().zero_()
    return module


def _padded(n):
    return -(-n // _EVAL_WIDTH_MULTIPLE) * _EVAL_WIDTH_MULTIPLE


class Linear(nn.Linear):
    """``nn.Linear`` whose evaluation gives each row the same bits wherever it sits in the batch.

    In training mode it is ``nn.Linear`` (always with a bias, float32, built
    on the CPU). In evaluation mode (``.eval()``)
    it zero-pads its input and output widths to a multiple of 16 before the
    matrix product and drops the padding after: the padded units add exact
    zeros, and the kernel MKL picks no longer depends on the row's position.
    The choice follows the module's own mode, never torch's global
    grad or inference-mode flags, so ``no_grad``, ``inference_mode``,
    TorchScript and ONNX export all compute the same function.

    Parameters
    ----------
    in_features, out_features : int
        As for ``nn.Linear``.

    activation : str, default="relu"
        The activation that follows; it sets the scale of the Glorot
        initialisation (unused when ``generator`` is None).

    generator : torch.Generator or None, default=None
        Source of the initial (Glorot-uniform) weights. None keeps
        ``nn.Linear``'s own initialisation, from torch's global RNG: skvae
        builds a user's module under a global seed taken from its
        ``random_state`` and restores the global state afterwards.
    """

    def __init__(self, in_features, out_features, *, activation="relu", generator=None):
        if generator is None:
            super().__init__(in_features, out_features, dtype=torch.float32)
            return
        # Built on the meta device, nn.Linear's own initialisation draws nothing.
        super().__init__(in_features, out_features, device="meta", dtype=torch.float32)
        self.to_empty(device="cpu")
        init_glorot_(self, in_features, out_features, activation, generator)

    def forward(self, x):
        if self.training and x.dim() == 2:
            # A training step's minibatch: the reshapes below cost more than this product's bias.
            return torch.addmm(self.bias, x, self.weight.t())
        rows = x.reshape(-1, x.shape[-1])
        if self.training:
            out = torch.addmm(self.bias, rows, self.weight.t())
        else:
            out = _padded_addmm(rows, self.weight, self.bias, self.in_features, self.out_features)
        return out.reshape(*x.shape[:-1], self.out_features)


def _padded_addmm(rows, weight, bias, n_in, n_out):
    # The widths come as Python ints, so that tracing records no shape test.
    pad_in, pad_out = _padded(n_in) - n_in, _padded(n_out) - n_out
    if pad_in == 0 and pad_out == 0:
        return torch.addmm(bias, rows, weight.t())
    out = torch.addmm(
        F.pad(bias, (0, pad_out)),
        F.pad(rows, (0, pad_in)),
        F.pad(weight, (0, pad_in, 0, pad_out)).t(),
    )
    return out[:, :n_out]


def mlp(sizes, activation_name, generator, *, activate_last=False):
    """``Linear`` layers of the given sizes with the activation between them.

    ``mlp([a, b])`` is one affine map; ``mlp([a])`` is the identity.
    """
    layers = []
    for index, (n_in, n_out) in enumerate(zip(sizes[:-1], sizes[1:])):
        layers.append(Linear(n_in, n_out, activation=activation_name, generator=generator))
        if activate_last or index < len(sizes) - 2:
            layers.append(activation_layer(activation_name))
    return nn.Sequential(*layers)
