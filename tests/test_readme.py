"""The README's quickstart runs as written."""

import re
from pathlib import Path

README = Path(__file__).resolve().parents[1] / "README.md"


def _section_code(title):
    text = README.read_text()
    section = text.split(f"## {title}\n", 1)[1].split("\n## ", 1)[0]
    return re.findall(r"```python\n(.*?)```", section, flags=re.S)


def test_quickstart_runs_as_written(capsys):
    (code,) = _section_code("Quickstart")
    exec(compile(code, str(README), "exec"), {})
    out = capsys.readouterr().out
    accuracy = float(re.search(r"SVC accuracy on mu\(x\): ([\d.]+)", out).group(1))
    assert accuracy > 0.9
    assert re.search(r"best beta: (0\.5|1|2)\b", out)


def _documented(section, cls):
    """Names listed under a numpydoc section of ``cls``'s docstring."""
    text = cls.__doc__.split(f"\n    {section}\n    ---")[1].split("\n    ---")[0]
    return set(re.findall(r"^    (\w+) :", text, flags=re.M))


def test_api_summary_matches_the_docstrings():
    from skvae import AutoencoderTransformer, VAETransformer

    section = README.read_text().split("## API summary\n", 1)[1].split("\n## ", 1)[0]
    rows = re.findall(r"^\| `(\w+)` \|", section, flags=re.M)
    documented = set()
    for cls in (VAETransformer, AutoencoderTransformer):
        parameters = _documented("Parameters", cls)
        assert parameters == set(cls().get_params()), cls.__name__
        documented |= parameters | (_documented("Attributes", cls) - {"See"})
    assert set(rows) == documented
    assert len(rows) == len(set(rows))
    for method in ("fit", "partial_fit", "transform", "inverse_transform", "score_samples",
                   "score", "sample", "get_feature_names_out", "set_output"):
        assert f"`{method}" in section and hasattr(VAETransformer, method)


def test_cluster_section_runs_as_written(capsys, tmp_path, monkeypatch):
    import pytest

    for module in ("dask.array", "distributed", "dask_ml.wrappers"):
        pytest.importorskip(module)
    monkeypatch.chdir(tmp_path)  # the snippet writes digits.npy
    namespace = {}
    for code in _section_code("When your data outgrow one machine"):
        exec(compile(code, str(README), "exec"), namespace)
    out = capsys.readouterr().out
    assert re.search(r"best beta: (0\.5|1|2)\b", out)
    assert "epochs: 5" in out
    assert "codes: (1797, 8) float32" in out
    assert namespace["search"].n_splits_ == 3
