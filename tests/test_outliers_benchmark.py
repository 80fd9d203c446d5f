"""benchmarks/outliers.py runs end to end on tiny settings and writes what it promises.

The quick profile trains for a few epochs on 300 rows per data set: it
checks the plumbing (data sets, both settings, every method, the table and
the targets), not the numbers.
"""

import importlib.util
import subprocess
import sys
from pathlib import Path

import pandas as pd
import pytest

SCRIPT = Path(__file__).resolve().parents[1] / "benchmarks" / "outliers.py"


def test_outlier_benchmark_quick_run(tmp_path):
    pytest.importorskip("statsmodels")
    completed = subprocess.run(
        [sys.executable, str(SCRIPT), "--quick", "--output", str(tmp_path)],
        capture_output=True, text=True, timeout=600,
    )
    assert completed.returncode == 0, completed.stderr[-3000:]
    results = pd.read_csv(tmp_path / "outliers.csv")
    assert set(results["dataset"]) == {
        "digits", "breast_cancer", "wine", "anes96", "fair", "randhie", "clusters", "manifold"
    }
    assert set(results["setting"]) == {"novelty", "outlier"}
    methods = {"VAEOutlierDetector", "VAEOutlierDetector(AE)", "IsolationForest", "LOF(novelty=True)", "PCA",
               "VAE, contamination=0.05"}
    if importlib.util.find_spec("pyod") is not None:
        methods |= {"pyod AutoEncoder", "pyod VAE"}
    else:
        assert "pyod is not installed" in completed.stdout
    assert set(results["method"]) == methods
    assert results["auroc"].between(0, 1).all() and results["ap"].between(0, 1 + 1e-9).all()
    # every data set's test rows hold anomalies and normal rows alike
    assert (results["n_test_anomalies"] > 0).all() and (results["n_test"] > results["n_test_anomalies"]).all()
    stdout = completed.stdout
    assert "| dataset | setting | method | AUROC | AP | flagged normal | fit s |" in stdout
    targets = stdout[stdout.index("Targets"):]
    for number in ("(1)", "(2)", "(3)"):
        line = next(line for line in targets.splitlines() if line.startswith(number))
        assert "MET" in line, line  # MET or NOT MET, never n/a: every row it needs ran
