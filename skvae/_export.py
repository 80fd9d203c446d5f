"""Serving graphs: ``transform`` and ``inverse_transform`` as torch modules, and as ONNX files.

A graph holds everything the method does to a row, the input scaling
included, and nothing of scikit-learn: float32 rows in, float32 rows out,
any number of rows. The scaling runs in float64 inside the graph, as the
estimator's own methods run it.
"""

import copy
import logging

import numpy as np
import torch
from torch import nn

METHODS = ("transform", "inverse_transform")


class _Graph(nn.Module):
    def __init__(self, model, scaling, condition=None, mixture=None):
        super().__init__()
        self.model = copy.deepcopy(model).cpu().eval()
        scaled = scaling.mean is not None
        self.register_buffer("mean", torch.as_tensor(scaling.mean if scaled else np.zeros(0), dtype=torch.float64))
        self.register_buffer("scale", torch.as_tensor(scaling.scale if scaled else np.zeros(0), dtype=torch.float64))
        self.scaled = scaled
        # A conditional model's "no condition" input, or its classes and their weights.
        self.register_buffer("condition", None if condition is None else torch.as_tensor(condition))
        self.register_buffer("weights", None if mixture is None else torch.as_tensor(mixture, dtype=torch.float32))


class TransformGraph(_Graph):
    """Rows ``(batch, n_features)`` in X's units to codes ``(batch, latent_dim)``."""

    def forward(self, x):
        if self.scaled:
            x = ((x.double() - self.mean) / self.scale).float()
        condition = None
        if self.condition is not None:
            condition = self.condition.expand(x.shape[0], -1)
        return self.model.code(x, condition)


class InverseTransformGraph(_Graph):
    """Codes ``(batch, latent_dim)`` to decoder means ``(batch, n_features)`` in X's units."""

    def forward(self, z):
        if self.condition is None:
            out = self.model.reconstruct(z)
        else:
            # The mean over the classes, weighted by their training frequencies.
            out = 0.0
            for index in range(self.condition.shape[0]):
                condition = self.condition[index].expand(z.shape[0], -1)
                out = out + self.weights[index] * self.model.reconstruct(z, condition)
        if self.scaled:
            out = (out.double() * self.scale + self.mean).float()
        return out


def serving_graph(estimator, method):
    """The torch module that computes ``method`` of the fitted ``estimator``, in eval mode."""
    return _graph(estimator, method).eval()


def _graph(estimator, method):
    if method not in METHODS:
        raise ValueError(f"method must be one of {METHODS}; got {method!r}.")
    conditions = getattr(estimator, "_conditions", None)
    scaling = estimator._scaling
    if method == "transform":
        missing = None if conditions is None else conditions.missing(1)
        return TransformGraph(estimator.network_, scaling, condition=missing)
    if conditions is None:
        return InverseTransformGraph(estimator.network_, scaling)
    if not conditions.categorical:
        raise ValueError(
            "inverse_transform without y averages over the classes; a model of covariates has "
            "none, so its decoder cannot be exported without a condition input."
        )
    one_hot = np.vstack([conditions.encode([label]) for label in conditions.classes])
    return InverseTransformGraph(estimator.network_, scaling, condition=one_hot,
                                 mixture=estimator.class_prior_)


def to_onnx(estimator, path, method):
    """Export ``method`` as an ONNX model with a dynamic batch dimension."""
    graph = serving_graph(estimator, method)
    width = estimator.n_features_in_ if method == "transform" else estimator.network_.latent_dim
    example = torch.zeros(2, width, dtype=torch.float32)
    name = "X"
    batch = torch.export.Dim("batch", min=1)
    # The exporter warns about torchvision operators, which skvae never uses.
    registration = logging.getLogger("torch.onnx._internal.exporter._registration")
    level = registration.level
    registration.setLevel(logging.ERROR)
    try:
        program = torch.onnx.export(
            graph, (example,), dynamo=True, input_names=[name],
            output_names=["X_new" if method == "transform" else "X_original"],
            dynamic_shapes={"x" if method == "transform" else "z": {0: batch}},
            verbose=False,
        )
    finally:
        registration.setLevel(level)
    program.save(str(path))
    return path
