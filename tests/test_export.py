"""Serving graphs: to_torch (TorchScript, torch.export) and to_onnx (onnxruntime)."""

import numpy as np
import pytest
import torch
from conftest import MODELS, SMALL

from skvae import ConditionalVAETransformer, VAETransformer

pytestmark = pytest.mark.usefixtures("one_onnx_operator_table")


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


def test_files_are_written_whole_or_not_at_all_from_any_path_and_only_to_a_path(tabular, tmp_path, monkeypatch):
    # to_onnx wrote straight to its path (a failed write left a truncated file where a good one
    # was) and named a file after str(path): a BytesIO came back empty beside a file called
    # "<_io.BytesIO object at ...>". save given a bytes path wrote in place, its partial file's
    # name built from "b'...'".
    import errno
    import io
    import os

    pytest.importorskip("onnxscript")
    vae = VAETransformer(**SMALL).fit(tabular)
    onnx_path, saved_path = tmp_path / "model.onnx", tmp_path / "model.skvae"
    vae.to_onnx(os.fsencode(onnx_path))
    vae.save(os.fsencode(saved_path))
    before = {path: path.read_bytes() for path in (onnx_path, saved_path)}

    def full_disk(*args):
        raise OSError(errno.ENOSPC, "No space left on device")

    other = VAETransformer(**{**SMALL, "latent_dim": 3}).fit(tabular)
    with monkeypatch.context() as patched:
        patched.setattr(os, "replace", full_disk)
        for write, path in ((other.to_onnx, onnx_path), (other.save, saved_path)):
            for given in (path, os.fsencode(path)):
                with pytest.raises(OSError, match="No space left"):
                    write(given)
    assert {path: path.read_bytes() for path in before} == before
    assert sorted(tmp_path.iterdir()) == sorted(before)  # no partial file left behind
    with pytest.raises(TypeError, match="path must be a file's path .* got BytesIO"):
        vae.to_onnx(io.BytesIO())


def test_to_onnx_without_onnxscript_says_what_to_install(tabular, tmp_path, monkeypatch):
    import sys

    monkeypatch.setitem(sys.modules, "onnxscript", None)  # import onnxscript then raises ImportError
    with pytest.raises(ImportError, match=r'onnxscript.*pip install "skvae\[onnx\]"'):
        VAETransformer(**SMALL).fit(tabular).to_onnx(tmp_path / "model.onnx")
    assert not (tmp_path / "model.onnx").exists()


def test_a_graph_too_large_for_one_protobuf_is_written_by_torch(tabular, tmp_path, monkeypatch):
    # Over 2 GB one protobuf cannot hold the weights: torch's own save writes them beside the file.
    ort = pytest.importorskip("onnxruntime")
    pytest.importorskip("onnxscript")
    import skvae._export

    monkeypatch.setattr(skvae._export, "ONNX_WHOLE_FILE_BYTES", 0)
    vae = VAETransformer(**SMALL).fit(tabular)
    path = vae.to_onnx(tmp_path / "model.onnx")
    assert (tmp_path / "model.onnx.data").exists()
    session = ort.InferenceSession(str(path))
    (out,) = session.run(None, {session.get_inputs()[0].name: tabular[:5].astype(np.float32)})
    np.testing.assert_allclose(out, vae.transform(tabular[:5].astype(np.float32)), rtol=1e-5, atol=1e-5)


def test_onnxruntime_reproduces_a_vq_vae_s_quantised_codes(tabular, tmp_path):
    # The nearest-code search must stay one ONNX can express: torch.cdist, tried for its speed,
    # could not be exported, and no test said so.
    ort = pytest.importorskip("onnxruntime")
    pytest.importorskip("onnxscript")
    from skvae import VQVAETransformer

    model = VQVAETransformer(latent_dim=3, n_codes=16, transform_quantized=True, **SMALL).fit(tabular)
    session = ort.InferenceSession(str(model.to_onnx(tmp_path / "model.onnx")))
    (graph_input,) = session.get_inputs()
    (out,) = session.run(None, {graph_input.name: tabular.astype(np.float32)})
    np.testing.assert_allclose(out, model.transform(tabular.astype(np.float32)), rtol=1e-5, atol=1e-5)


def test_a_category_index_no_level_has_is_a_hole_in_the_graphs(tmp_path):
    # The graphs read a category as its index: -1 (pandas' cat.codes for a hole), an index past the
    # levels or a fraction set another column's one-hot input, silently (the torch graph raised only
    # where the first column's offset made it out of bounds).
    import pandas as pd

    from skvae import VAEImputer

    rng = np.random.RandomState(0)
    frame = pd.DataFrame({"a": rng.choice(["x", "y", "z"], 200), "b": rng.choice(["u", "v"], 200),
                          "c": rng.normal(size=200)})
    frame.loc[rng.rand(200) < 0.1, "b"] = None
    model = VAETransformer(**SMALL, handle_unknown="ignore").fit(frame)
    imputer = VAEImputer(**SMALL, add_indicator=True).fit(frame)
    indices = np.array([[0, 1, 0.5], [-1, 0, 0.5], [3, 1, 0.5], [1.5, 7, 0.5], [2, -1, 0.5]])
    as_holes = np.where([[0, 0, 0], [1, 0, 0], [1, 0, 0], [1, 1, 0], [0, 1, 0]], np.nan, indices)
    with torch.no_grad():
        codes = model.to_torch()(torch.from_numpy(indices)).numpy()
        filled = imputer.to_torch()(torch.from_numpy(indices)).numpy()
        expected_fill = imputer.to_torch()(torch.from_numpy(as_holes)).numpy()
    np.testing.assert_array_equal(codes, model.to_torch()(torch.from_numpy(as_holes)).detach().numpy())
    np.testing.assert_array_equal(filled, expected_fill)
    # As transform reads an unseen level under handle_unknown="ignore": a hole.
    levels = pd.DataFrame({"a": ["x", "w", "w", "w", "z"], "b": ["v", "u", "v", "w", "w"], "c": [0.5] * 5})
    np.testing.assert_allclose(codes, model.transform(levels), rtol=1e-5, atol=1e-5)
    ort = pytest.importorskip("onnxruntime")  # the torch graph above is checked either way
    pytest.importorskip("onnxscript")
    session = ort.InferenceSession(str(model.to_onnx(tmp_path / "model.onnx")))
    (out,) = session.run(None, {session.get_inputs()[0].name: indices.astype(np.float32)})
    np.testing.assert_allclose(out, codes, rtol=1e-5, atol=1e-5)
