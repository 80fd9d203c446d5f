"""Serving graphs: to_torch (TorchScript, torch.export) and to_onnx (onnxruntime)."""

import numpy as np
import pytest
import torch
from conftest import MODELS, SMALL

from skvae import ConditionalVAETransformer, VAETransformer


def _inputs(model, method, X):
    return X.astype(np.float32) if method == "transform" else model.transform(X).astype(np.float32)


@MODELS
@pytest.mark.parametrize("method", ["transform", "inverse_transform"])
@pytest.mark.filterwarnings("ignore:`torch.jit.trace:DeprecationWarning")
def test_the_torch_graph_computes_the_method(Estimator, method, tabular):
    model = Estimator(**SMALL).fit(tabular)
    graph = model.to_torch(method)
    inputs = _inputs(model, method, tabular)
    with torch.inference_mode():
        out = graph(torch.from_numpy(inputs)).numpy()
    # Rows go through the graph in one batch, not skvae's chunks: equal to float32 rounding.
    np.testing.assert_allclose(out, getattr(model, method)(inputs), rtol=1e-5, atol=1e-5)
    # The same under no_grad as under inference_mode, and after torch.jit.trace and torch.export.
    example = torch.from_numpy(inputs[:5])
    with torch.no_grad():
        expected = graph(example)
        traced = torch.jit.trace(graph, example)
        torch.testing.assert_close(traced(example), expected, rtol=0, atol=0)
    batch = torch.export.Dim("batch", min=1)
    name = "x" if method == "transform" else "z"
    exported = torch.export.export(graph, (example,), dynamic_shapes={name: {0: batch}})
    torch.testing.assert_close(exported.module()(torch.from_numpy(inputs[:9])), graph(torch.from_numpy(inputs[:9])))


def test_conditional_graphs_compute_the_methods_without_y(tabular):
    labels = (tabular[:, 0] > tabular[:, 0].mean()).astype(int)
    cvae = ConditionalVAETransformer(**SMALL).fit(tabular, labels)
    for method in ("transform", "inverse_transform"):
        inputs = _inputs(cvae, method, tabular)
        with torch.inference_mode():
            out = cvae.to_torch(method)(torch.from_numpy(inputs)).numpy()
        np.testing.assert_allclose(out, getattr(cvae, method)(inputs), rtol=1e-5, atol=1e-5)
    covariates = ConditionalVAETransformer(**SMALL).fit(tabular, tabular[:, :2])
    with pytest.raises(ValueError, match="cannot be exported without a condition input"):
        covariates.to_torch("inverse_transform")
    with pytest.raises(ValueError, match="method must be one of"):
        cvae.to_torch("score_samples")


@MODELS
@pytest.mark.parametrize("method", ["transform", "inverse_transform"])
def test_onnxruntime_reproduces_the_method(Estimator, method, tabular, tmp_path):
    ort = pytest.importorskip("onnxruntime")
    pytest.importorskip("onnxscript")
    model = Estimator(**SMALL).fit(tabular)
    path = model.to_onnx(tmp_path / "model.onnx", method=method)
    session = ort.InferenceSession(str(path))
    (graph_input,) = session.get_inputs()
    inputs = _inputs(model, method, tabular)
    for rows in (1, 37, 300):  # a dynamic batch dimension
        (out,) = session.run(None, {graph_input.name: inputs[:rows]})
        np.testing.assert_allclose(out, getattr(model, method)(inputs[:rows]), rtol=1e-5, atol=1e-5)


def test_graphs_hold_copies(tabular):
    vae = VAETransformer(**SMALL).fit(tabular)
    graph = vae.to_torch()
    with torch.no_grad():
        next(graph.parameters()).zero_()
    np.testing.assert_array_equal(vae.transform(tabular), VAETransformer(**SMALL).fit(tabular).transform(tabular))
