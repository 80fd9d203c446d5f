"""Building blocks: a dense layer whose evaluation is row-invariant, faster stride-2 convolutions, activations, initialisation.

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

# A batch evaluated for outputs that must not depend on the rows beside them
# is a multiple of this many rows (skvae._data pads every evaluation chunk;
# skvae.nn.latents pads a batch of decoded draws). Two mechanisms make a
# row's bits depend on its place in a batch. A CPU matrix product picks
# another kernel, with another summation order, for a handful of rows than
# for many (measured with MKL at 1 and 2 threads: chunks of 1, 2, 3, 5, 7 or
# 9 rows round a row differently, every multiple of 4 from 4 to 1024 does
# not; layer widths are padded too, above). And an elementwise function over
# a contiguous tensor runs vectorised in steps of two SIMD registers, 32
# float32 values with AVX-512, and the remainder in a scalar loop whose exp,
# log and sigmoid round differently: a row whose values fall in that
# remainder changed by an ulp when the rows were permuted (the hierarchical
# VAE's sigmoids, latent_dims=(2, 1)). Multiples of 32 rows leave no
# remainder.
EVAL_ROW_MULTIPLE = 32


def all_finite(tensor):
    """Whether every entry of a float tensor is finite: a sum, and a min-max pass only if it is not; no boolean temporary.

    A NaN or an infinity makes the sum NaN or infinite, as scikit-learn's
    own check reads it; so can finite entries whose sum overflows, which
    the min-max pass then clears (min and max propagate NaN, and an
    infinite entry is the min or the max). The sum costs a quarter of the
    min-max pass on a one-row call's 32 x 784 float64 chunk (3 against 12
    microseconds).
    """
    if tensor.numel() == 0 or math.isfinite(tensor.sum()):
        return True
    low, high = torch.aminmax(tensor)
    return math.isfinite(float(low)) and math.isfinite(float(high))


def row_mean(values, weight=None):
    """Mean of ``values`` over its rows (dim 0), each row counted ``weight`` times (None: once).

    The one reduction of a training loss over a minibatch's rows, through
    which ``sample_weight`` reaches every term. ``weight`` is scaled to a
    mean of 1 over the fit's training rows, not over the minibatch: a
    minibatch of zero weights then adds nothing, where a mean by its own
    weights would divide by 0.
    """
    if weight is None:
        return values.mean(0)
    weight = weight.to(values.dtype)
    return (values * weight.reshape(-1, *(1,) * (values.dim() - 1))).mean(0)


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


def materialise_(module):
    """Give a layer built on the meta device (its own parameters, no buffers) uninitialised float32 ones on the CPU."""
    # Not module.to_empty: torch forms empty_like of a meta tensor in Python,
    # and its first call in a process imports sympy (0.4 s of a first fit).
    for name, parameter in module.named_parameters(recurse=False):
        setattr(module, name, nn.Parameter(torch.empty(parameter.shape, dtype=torch.float32)))
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
        materialise_(self)
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


def _phase_positions(height, width, output_padding, device):
    """Where each output pixel of ``_phase_conv_transpose`` lies in its channel's four phase maps, flattened.

    Output row 2m + r is row m + r of phase r's map (phase maps have height
    + 1 rows); columns alike. With output padding the last row (column) is
    phase 0's row ``height``, which the padded input gives. Built on every
    call (about 20 microseconds): a cached tensor would keep the mode of its
    first call (a fake tensor under ``torch.export``, an inference tensor)
    and break later calls; built from the sizes, it also follows them when
    ``torch.jit.trace`` records sizes as values.
    """
    rows = torch.arange(2 * height + output_padding[0], device=device)
    columns = torch.arange(2 * width + output_padding[1], device=device)
    row_phase, column_phase = rows % 2, columns % 2
    row_part = row_phase * (2 * (height + 1) * (width + 1)) + (rows // 2 + row_phase) * (width + 1)
    column_part = column_phase * ((height + 1) * (width + 1)) + columns // 2 + column_phase
    return (row_part.unsqueeze(1) + column_part).reshape(-1)


def _phase_conv_transpose(x, weight, bias, output_padding):
    """A kernel-4, stride-2, padding-1 transposed convolution as one 2 x 2 convolution per output phase.

    The four phases are one ``conv2d`` to four times the channels over the
    input padded by one, interleaved; the same function as
    ``F.conv_transpose2d`` up to rounding.
    """
    n, c_in, height, width = x.shape
    c_out = weight.shape[1]
    # Output row 2m + r reads input rows m - 1 and m with kernel rows 3 and 1
    # (r=0), or rows m and m + 1 with kernel rows 2 and 0 (r=1): in the
    # flipped kernel, rows r and r + 2. Columns alike.
    phase_weight = (weight.flip(2, 3).reshape(c_in, c_out, 2, 2, 2, 2)  # (in, out, row, r, column, s)
                    .permute(1, 3, 5, 0, 2, 4).reshape(c_out * 4, c_in, 2, 2))
    phase_bias = None if bias is None else bias.repeat_interleave(4)
    phases = F.conv2d(x, phase_weight, phase_bias, padding=1)
    # One gather interleaves the phases, output padding included; fits ran 3-4% faster than
    # with four strided copies in two interleaved runs (near the noise, not slower).
    positions = _phase_positions(height, width, output_padding, x.device)
    out = phases.reshape(n * c_out, 4 * (height + 1) * (width + 1)).index_select(1, positions)
    return out.view(n, c_out, 2 * height + output_padding[0], 2 * width + output_padding[1])


class _PhaseConvTranspose(torch.autograd.Function):
    """The phase form forward; torch's own transposed-convolution backward (exact: the map is linear)."""

    generate_vmap_rule = True

    @staticmethod
    def forward(x, weight, bias, output_padding):
        return _phase_conv_transpose(x, weight, bias, output_padding)

    @staticmethod
    def setup_context(ctx, inputs, output):
        x, weight, bias, output_padding = inputs
        ctx.save_for_backward(x, weight)
        ctx.has_bias, ctx.output_padding = bias is not None, list(output_padding)

    @staticmethod
    def backward(ctx, grad):
        x, weight = ctx.saved_tensors
        mask = [ctx.needs_input_grad[0], ctx.needs_input_grad[1], ctx.has_bias and ctx.needs_input_grad[2]]
        grad_x, grad_weight, grad_bias = torch.ops.aten.convolution_backward(
            grad.contiguous(), x, weight, [weight.shape[1]] if ctx.has_bias else None,
            [2, 2], [1, 1], [1, 1], True, ctx.output_padding, 1, mask,
        )
        return grad_x, grad_weight, grad_bias, None


def _phase_form_applies(layer, x):
    """Whether ``layer`` (a kernel-4, stride-2, padding-1 convolution or transposed one) takes the phase form on ``x``.

    On a CPU only, where it was measured, and not under autocast (oneDNN's
    bf16 backward failed there).
    """
    return (x.dim() == 4 and layer.kernel_size == (4, 4) and layer.stride == (2, 2) and layer.padding == (1, 1)
            and layer.dilation == (1, 1) and layer.groups == 1 and layer.padding_mode == "zeros"
            and x.device.type == "cpu" and not torch.is_autocast_enabled(x.device.type))


class _PhaseInputGradientConv(torch.autograd.Function):
    """torch's kernel-4, stride-2, padding-1 convolution, whose input gradient is taken in the phase form."""

    generate_vmap_rule = True

    @staticmethod
    def forward(x, weight, bias):
        return F.conv2d(x, weight, bias, stride=2, padding=1)

    @staticmethod
    def setup_context(ctx, inputs, output):
        x, weight, bias = inputs
        ctx.save_for_backward(x, weight)
        ctx.has_bias = bias is not None

    @staticmethod
    def backward(ctx, grad):
        x, weight = ctx.saved_tensors
        grad = grad.contiguous()
        grad_x = grad_weight = grad_bias = None
        if ctx.needs_input_grad[0]:
            # A stride-2 convolution's input gradient is the transposed convolution of its output
            # gradient with the same weights; a row (column) the convolution dropped, at an odd
            # size, is one of output padding.
            output_padding = (x.shape[2] - 2 * grad.shape[2], x.shape[3] - 2 * grad.shape[3])
            grad_x = _phase_conv_transpose(grad, weight, None, output_padding)
        if ctx.needs_input_grad[1] or ctx.needs_input_grad[2]:
            _, grad_weight, grad_bias = torch.ops.aten.convolution_backward(
                grad, x, weight, [weight.shape[0]] if ctx.has_bias else None,
                [2, 2], [1, 1], [1, 1], False, [0, 0], 1,
                [False, ctx.needs_input_grad[1], ctx.has_bias and ctx.needs_input_grad[2]],
            )
        return grad_x, grad_weight, grad_bias


class Conv2d(nn.Conv2d):
    """``nn.Conv2d`` whose kernel-4, stride-2, padding-1 input gradient is computed as four 2 x 2 convolutions.

    The input gradient of a stride-2 convolution is a transposed
    convolution, which oneDNN runs several times slower than a plain
    convolution of the same work (see ``ConvTranspose2d``); here it is
    taken in ``ConvTranspose2d``'s phase form. The forward pass and the
    weight and bias gradients are torch's own, bit for bit; the input
    gradient agrees with torch's to rounding (about 1e-6). A layer whose
    input needs no gradient (an encoder's first) is ``nn.Conv2d`` exactly,
    as are other geometries, other devices than the CPU and autocast. The
    parameters and ``state_dict`` are ``nn.Conv2d``'s.

    Parameters
    ----------
    in_channels, out_channels, kernel_size, stride, padding, ...
        As for ``nn.Conv2d``.

    Examples
    --------
    >>> import torch
    >>> from skvae.nn import Conv2d
    >>> layer = Conv2d(8, 16, kernel_size=4, stride=2, padding=1)
    >>> layer(torch.zeros(2, 8, 14, 14)).shape
    torch.Size([2, 16, 7, 7])
    """

    def forward(self, x):
        if self.training and torch.is_grad_enabled() and x.requires_grad and _phase_form_applies(self, x):
            return _PhaseInputGradientConv.apply(x, self.weight, self.bias)
        return super().forward(x)


class ConvTranspose2d(nn.ConvTranspose2d):
    """``nn.ConvTranspose2d`` that computes a kernel-4, stride-2, padding-1 layer as four 2 x 2 convolutions.

    oneDNN runs such a transposed convolution several times slower than a
    plain convolution of the same work (8 to 1 channels at 28 x 28, 200
    images, one thread: 2.9 against 0.6 ms forward). The forward pass here is
    one ``conv2d`` to one output channel per phase and channel, interleaved;
    training takes torch's own transposed-convolution backward, so a layer's
    gradients, given the same inputs, are bitwise those of
    ``nn.ConvTranspose2d``. Other geometries, other devices than the CPU
    (where the speed was measured) and autocast are
    ``nn.ConvTranspose2d``'s. The parameters and ``state_dict`` are
    ``nn.ConvTranspose2d``'s; the outputs agree to rounding (about 1e-6).
    Forward-mode differentiation (``torch.func.jvp``) of a layer in
    training mode is not supported; in evaluation mode it is.

    Parameters
    ----------
    in_channels, out_channels, kernel_size, stride, padding, output_padding, ...
        As for ``nn.ConvTranspose2d``.

    Examples
    --------
    >>> import torch
    >>> from skvae.nn import ConvTranspose2d
    >>> layer = ConvTranspose2d(8, 1, kernel_size=4, stride=2, padding=1)
    >>> layer(torch.zeros(2, 8, 14, 14)).shape
    torch.Size([2, 1, 28, 28])
    """

    def forward(self, x, output_size=None):
        if output_size is not None or not _phase_form_applies(self, x):
            return super().forward(x, output_size)
        if self.training and torch.is_grad_enabled():
            return _PhaseConvTranspose.apply(x, self.weight, self.bias, self.output_padding)
        return _phase_conv_transpose(x, self.weight, self.bias, self.output_padding)
