"""The README's quickstart and the guides' code run as written; the API summary matches the docstrings."""

import re
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[1]
README = ROOT / "README.md"


def _section_code(title, page=README):
    text = page.read_text()
    section = text.split(f"## {title}\n", 1)[1].split("\n## ", 1)[0]
    return re.findall(r"```python\n(.*?)```", section, flags=re.S)


def test_quickstart_runs_as_written(capsys):
    import warnings

    from sklearn.exceptions import ConvergenceWarning

    (code,) = _section_code("Quickstart")
    with warnings.catch_warnings(record=True) as caught:
        warnings.simplefilter("always")
        exec(compile(code, str(README), "exec"), {})
    # The README promises a quiet block (fits in this process: the pipeline and both refits).
    assert not [w for w in caught if issubclass(w.category, ConvergenceWarning)]
    out = capsys.readouterr().out
    accuracy = float(re.search(r"SVC accuracy on mu\(x\): ([\d.]+)", out).group(1))
    assert accuracy > 0.9
    assert re.search(r"best beta for the classifier: (0\.5|1|2)\b", out)
    assert re.search(r"best beta by held-out ELBO: (0\.5|1|2)\b", out)


def _documented(section, cls):
    """Names listed under a numpydoc section of ``cls``'s docstring (a blank line before its header, as numpydoc needs)."""
    text = cls.__doc__.split(f"\n\n    {section}\n    ---")[1].split("\n    ---")[0]
    return set(re.findall(r"^    (\w+) :", text, flags=re.M))


def test_api_page_matches_the_docstrings():
    import skvae

    page = (ROOT / "docs" / "api.md").read_text()
    rows = re.findall(r"^\| `(\w+)` \|", page, flags=re.M)
    documented = set()
    for name in skvae.__all__:
        cls = getattr(skvae, name)
        if not isinstance(cls, type):
            continue
        parameters = _documented("Parameters", cls)
        assert parameters == set(cls().get_params()), name
        documented |= parameters | (_documented("Attributes", cls) - {"See"})
    assert set(rows) == documented
    assert len(rows) == len(set(rows))
    for method in ("fit", "partial_fit", "transform", "inverse_transform", "score_samples",
                   "score", "sample", "get_feature_names_out", "set_output", "save", "to_torch",
                   "to_onnx"):
        assert f"`{method}" in page and hasattr(skvae.VAETransformer, method)
    assert "`predict`" in page and hasattr(skvae.VQVAETransformer, "predict")


def test_api_page_lists_the_likelihoods_the_estimators_take():
    import skvae
    from skvae.nn import LIKELIHOODS

    page = (ROOT / "docs" / "api.md").read_text()
    (row,) = re.findall(r"^\| `likelihood` \|.*$", page, flags=re.M)
    listed = set(re.findall(r'"(\w+)"', row)) & (set(LIKELIHOODS) | {"auto"})
    for name in skvae.__all__:
        constraint = getattr(getattr(skvae, name), "_parameter_constraints", {}).get("likelihood")
        if constraint is not None:
            assert set(constraint[0].options) == listed, name


def test_cluster_section_runs_as_written(capsys, tmp_path, monkeypatch):
    for module in ("dask.array", "distributed", "dask_ml.wrappers"):
        pytest.importorskip(module)
    monkeypatch.chdir(tmp_path)  # the snippet writes digits.npy
    namespace = {}
    page = ROOT / "docs" / "scaling.md"
    for code in _section_code("Clusters", page):
        exec(compile(code, str(page), "exec"), namespace)
    out = capsys.readouterr().out
    assert re.search(r"best beta: (0\.5|1|2)\b", out)
    assert "epochs: 5" in out
    assert "codes: (1797, 8) float32" in out
    assert namespace["search"].n_splits_ == 3


def test_trust_guide_runs_as_written(tmp_path, monkeypatch):
    # Its blocks used a vae they never defined: a newcomer copying them met a NameError.
    import warnings

    from sklearn.exceptions import ConvergenceWarning

    pytest.importorskip("skops", reason="the page's second block uses skops (an optional extra)")

    page = ROOT / "docs" / "trust.md"
    blocks = re.findall(r"```python\n(.*?)```", page.read_text(), flags=re.S)
    monkeypatch.chdir(tmp_path)
    namespace = {}
    with warnings.catch_warnings(record=True) as caught:
        warnings.simplefilter("always")
        for code in blocks:
            exec(compile(code, str(page), "exec"), namespace)
    # The page mentions no warning (max_iter=20 warned ConvergenceWarning; early stopping ends the fit).
    assert not [str(w.message) for w in caught if issubclass(w.category, (UserWarning, ConvergenceWarning))]
    assert (tmp_path / "vae.skvae").exists() and (tmp_path / "vae.skops").exists()
    assert type(namespace["vae"]).__name__ == "VAETransformer"


def test_data_guide_runs_as_written(capsys):
    import warnings

    from sklearn.exceptions import ConvergenceWarning

    page = ROOT / "docs" / "data.md"
    (code,) = re.findall(r"```python\n(.*?)```", page.read_text(), flags=re.S)
    with warnings.catch_warnings(record=True) as caught:
        warnings.simplefilter("always")
        exec(compile(code, str(page), "exec"), {})
    assert not [str(w.message) for w in caught if issubclass(w.category, (UserWarning, ConvergenceWarning))]
    out = capsys.readouterr().out
    assert "'visits': 'poisson'" in out and "'plan': 'categorical'" in out


def test_custom_modules_example_runs_as_written(capsys, monkeypatch):
    import sys
    import types
    import warnings

    from sklearn.exceptions import ConvergenceWarning

    page = ROOT / "docs" / "custom_modules.md"
    code = page.read_text().split("## A complete example\n", 1)[1]
    (code,) = re.findall(r"```python\n(.*?)```", code.split("\n## ", 1)[0], flags=re.S)
    # A module of its own, as a script is: its classes pickle by their module's name.
    guide = types.ModuleType("custom_modules_guide")
    monkeypatch.setitem(sys.modules, guide.__name__, guide)
    with warnings.catch_warnings(record=True) as caught:
        warnings.simplefilter("always")
        exec(compile(code, str(page), "exec"), guide.__dict__)
    # The page: "the five fits ... each warns, with a ConvergenceWarning".
    assert len([w for w in caught if issubclass(w.category, ConvergenceWarning)]) == 5
    assert re.fullmatch(r"\{'encoder__width': (32|64)\} 1 \(3, 4\)\n", capsys.readouterr().out)
