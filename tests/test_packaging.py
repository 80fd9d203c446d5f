"""The built wheel holds every module of the source tree (a hand-written package list once left one out)."""

import shutil
import subprocess
import sys
import zipfile
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[1]


def test_the_wheel_holds_every_module_of_the_source_tree(tmp_path):
    pytest.importorskip("setuptools")
    # A copy without the editable install's egg-info, whose file list setuptools would reuse.
    source = tmp_path / "source"
    shutil.copytree(ROOT / "skvae", source / "skvae", ignore=shutil.ignore_patterns("__pycache__"))
    for name in ("pyproject.toml", "README.md"):
        shutil.copy(ROOT / name, source / name)
    built = subprocess.run(
        [sys.executable, "-m", "pip", "wheel", "--no-deps", "--no-build-isolation", "--quiet",
         "--wheel-dir", str(tmp_path / "wheel"), str(source)],
        capture_output=True, text=True, timeout=300, cwd=tmp_path,
    )
    assert built.returncode == 0, built.stderr[-3000:]
    (wheel,) = (tmp_path / "wheel").glob("skvae-*.whl")
    packed = {name for name in zipfile.ZipFile(wheel).namelist() if name.endswith(".py")}
    modules = {path.relative_to(ROOT).as_posix() for path in (ROOT / "skvae").rglob("*.py")}
    assert modules <= packed, sorted(modules - packed)


def test_import_loads_torch_first_and_no_more_of_scikit_learn_than_it_uses():
    # sklearn.impute (for VAEImputer.indicator_ alone) brought neighbors, svm and more into every
    # import, 50 ms; torch after scikit-learn and pandas cost a garbage collection pass, ~0.1 s
    # (benchmarks/import_time.py).
    probe = ("import sys, skvae; print(next(name.split('.')[0] for name in sys.modules if name.split('.')[0] in "
             "('torch', 'sklearn', 'pandas'))); print('sklearn.impute' in sys.modules)")
    out = subprocess.run([sys.executable, "-c", probe], capture_output=True, text=True, check=True,
                         cwd=ROOT, timeout=120).stdout.split()
    assert out == ["torch", "False"]
