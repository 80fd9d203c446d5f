"""Does a hand-written MLP autograd node speed up training? An interleaved A/B.

skvae once ran each MLP (encoder, decoder) as a single ``torch.autograd.Function``
with a matrix-product backward, to save autograd's per-node overhead. It was
removed when the model became pluggable; this script keeps a copy of that node
and measures it against plain autograd (``Linear`` + activation modules) on the
workload it was written for: a 784-256-256-8 Bernoulli VAE, batch 128, 6
epochs on 5,000 rows, in pairs (A B A B ...), median of the per-pair ratios.

    python benchmarks/mlp_node_ab.py            # 4 pairs, about a minute at 2 threads
    python benchmarks/mlp_node_ab.py --quick    # a smoke run for the tests

The node replaces the encoder's and decoder's dense layers during training;
the latent head (one affine map) stays a plain autograd node in both arms.
"""

import argparse
import statistics
import time
import warnings

import torch
from sklearn.exceptions import ConvergenceWarning
from throughput import HIDDEN, LATENT, digits_784

from skvae import VAETransformer
from skvae.nn import MLPDecoder, MLPEncoder

_ACTIVATION_NAMES = {torch.nn.ReLU: "relu", torch.nn.Tanh: "tanh", torch.nn.Sigmoid: "logistic"}


class _MLPNode(torch.autograd.Function):
    """Dense layers as one autograd node; the backward is written as matrix products."""

    @staticmethod
    def forward(ctx, x, activation, activate_last, *params):
        weights, biases = params[0::2], params[1::2]
        inputs, h = [x], x
        for index, (weight, bias) in enumerate(zip(weights, biases)):
            h = torch.addmm(bias, h, weight.t())
            if activate_last or index < len(weights) - 1:
                h = _activate(h, activation)
            inputs.append(h)
        ctx.activation, ctx.activate_last = activation, activate_last
        ctx.save_for_backward(*inputs, *weights)
        return h

    @staticmethod
    def backward(ctx, grad):
        saved = ctx.saved_tensors
        n_layers = (len(saved) - 1) // 2
        outputs, weights = saved[: n_layers + 1], saved[n_layers + 1 :]
        param_grads = [None] * (2 * n_layers)
        for index in range(n_layers - 1, -1, -1):
            if ctx.activate_last or index < n_layers - 1:
                grad = _activation_backward(grad, outputs[index + 1], ctx.activation)
            param_grads[2 * index] = grad.t().mm(outputs[index])
            param_grads[2 * index + 1] = grad.sum(0)
            grad = grad.mm(weights[index]) if (index > 0 or ctx.needs_input_grad[0]) else None
        return (grad, None, None, *param_grads)


def _activate(h, activation):
    return {"relu": torch.relu, "tanh": torch.tanh, "logistic": torch.sigmoid}[activation](h)


def _activation_backward(grad, output, activation):
    aten = torch.ops.aten
    if activation == "relu":
        return aten.threshold_backward(grad, output, 0.0)
    if activation == "tanh":
        return aten.tanh_backward(grad, output)
    return aten.sigmoid_backward(grad, output)


def _node_forward(activate_last):
    def forward(self, x):
        if not self.training:
            return self.layers(x)
        linears = [m for m in self.layers if isinstance(m, torch.nn.Linear)]
        activation = next(_ACTIVATION_NAMES[type(m)] for m in self.layers if type(m) in _ACTIVATION_NAMES)
        params = [t for layer in linears for t in (layer.weight, layer.bias)]
        return _MLPNode.apply(x, activation, activate_last, *params)

    return forward


def check_gradients():
    """The node's gradients equal autograd's on a small double-precision MLP."""
    encoder = MLPEncoder(5, (7, 6), "relu", generator=torch.Generator().manual_seed(0)).double()
    x = torch.randn(4, 5, dtype=torch.double, requires_grad=True)
    reference = torch.autograd.grad(encoder(x).square().sum(), [x, *encoder.parameters()])
    ours = torch.autograd.grad(_node_forward(True)(encoder, x).square().sum(), [x, *encoder.parameters()])
    return max(float((a - b).abs().max()) for a, b in zip(ours, reference))


def main(argv=None):
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--quick", action="store_true", help="tiny sizes: a smoke test, not a measurement")
    args = parser.parse_args(argv)
    n_rows, epochs, pairs = (256, 1, 1) if args.quick else (5000, 6, 4)
    warnings.simplefilter("ignore", ConvergenceWarning)
    X = digits_784(n_rows)
    plain = (MLPEncoder.forward, MLPDecoder.forward)
    node = (_node_forward(True), _node_forward(False))

    def fit(forwards):
        MLPEncoder.forward, MLPDecoder.forward = forwards
        start = time.perf_counter()
        vae = VAETransformer(LATENT, hidden_layer_sizes=HIDDEN, likelihood="bernoulli", batch_size=128,
                             max_iter=epochs, kl_warmup=0, random_state=0).fit(X)
        return time.perf_counter() - start, vae.loss_curve_[-1]

    print(f"torch {torch.__version__}, {torch.get_num_threads()} threads; "
          f"largest gradient difference, node vs autograd: {check_gradients():.1e}")
    fit(plain)  # warm-up: first-call costs stay out of the pairs
    ratios = []
    try:
        for pair in range(pairs):
            node_seconds, node_loss = fit(node)
            plain_seconds, plain_loss = fit(plain)
            ratios.append(plain_seconds / node_seconds)
            print(f"pair {pair + 1}: node {node_seconds:.2f} s, plain autograd {plain_seconds:.2f} s, "
                  f"plain/node {ratios[-1]:.3f}; final loss {node_loss:.3f} vs {plain_loss:.3f}")
    finally:
        MLPEncoder.forward, MLPDecoder.forward = plain
    median = statistics.median(ratios)
    verdict = "keep the node" if median >= 1 / 0.9 else "no gain worth the code: plain autograd"
    print(f"median plain/node fit time over {pairs} pairs: {median:.3f} ({verdict}; "
          "the node is kept only if it saves at least 10% of fit time)")


if __name__ == "__main__":
    main()
