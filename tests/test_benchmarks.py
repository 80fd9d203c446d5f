"""benchmarks/compare_pca.py runs end to end and writes what it promises.

The smoke profile trains for 2 epochs on tiny data: it checks the plumbing
(pipelines, GridSearchCV with no scorer, metrics, table, figures), not the
numbers.
"""

import pandas as pd
import pytest
from conftest import BENCHMARKS, run_script

EXPECTED_COLUMNS = {
    "dataset",
    "method",
    "latent_dim",
    "preprocessing",
    "loglik_kind",
    "best_beta",
    *(
        f"{metric}_{stat}"
        for metric in ("svc", "knn", "logreg", "recon_mse", "loglik", "trustworthiness")
        for stat in ("mean", "std")
    ),
    "fit_s_mean",
    "transform_s_mean",
}


@pytest.fixture(scope="module")
def smoke_run(tmp_path_factory):
    output = tmp_path_factory.mktemp("compare_pca")
    completed = run_script("compare_pca", "--smoke", "--output", output)  # its status is asserted in a test
    return completed, output


def test_every_benchmark_script_answers_help_without_running():
    # cvae_free_bits.py had no argument parser: its --help ran the whole benchmark.
    for script in sorted(BENCHMARKS.glob("*.py")):
        source = script.read_text()
        if '__name__ == "__main__"' in source:
            assert "ArgumentParser(" in source and ".parse_args(" in source, script.name


def test_smoke_run_exits_cleanly(smoke_run):
    completed, _ = smoke_run
    assert completed.returncode == 0, completed.stderr[-3000:]


def test_smoke_run_writes_csv_and_figures(smoke_run):
    _, output = smoke_run
    results = pd.read_csv(output / "compare_pca.csv")
    assert EXPECTED_COLUMNS <= set(results.columns)
    assert set(results["dataset"]) == {"digits", "digits_28x28", "breast_cancer", "wine", "swiss_roll"}
    assert set(results["method"]) == {
        "PCA", "Autoencoder", "VAE", "VAE, free bits", "beta-VAE (CV)", "conv AE", "conv VAE"
    }
    # The convolutional methods run on the image data sets only.
    conv = results[results["method"].str.startswith("conv")]
    assert set(conv["dataset"]) == {"digits", "digits_28x28"}
    assert results[["svc_mean", "knn_mean", "logreg_mean", "recon_mse_mean"]].notna().all().all()
    # The grid search picked a beta in every outer fold.
    searched = results[results["method"] == "beta-VAE (CV)"]
    assert searched["best_beta"].str.split(";").map(len).eq(searched["n_folds"]).all()
    # The log-likelihood column holds PCA and the VAE, never the autoencoder.
    has_loglik = results.set_index("method")["loglik_mean"].notna()
    assert has_loglik["PCA"].all() and has_loglik["VAE"].all() and has_loglik["conv VAE"].all()
    assert not has_loglik["Autoencoder"].any() and not has_loglik["conv AE"].any()
    for name in ("accuracy.png", "reconstruction.png"):
        assert (output / name).read_bytes().startswith(b"\x89PNG")


def test_smoke_run_prints_table_and_targets(smoke_run):
    completed, output = smoke_run
    stdout = completed.stdout
    assert "| dataset | method | dim |" in stdout
    assert "| digits | PCA | 2 |" in stdout
    targets = stdout[stdout.index("Targets") :]
    lines = {number: next(line for line in targets.splitlines() if line.startswith(number))
             for number in ("(1)", "(2)", "(3)", "(4)", "(5)")}
    # Each verdict is the one the CSV's numbers give, recomputed here.
    results = pd.read_csv(output / "compare_pca.csv").set_index(["dataset", "method", "latent_dim"]).sort_index()
    digits, roll = results.loc["digits"], results.loc["swiss_roll"]
    conv, dense = results.loc[("digits_28x28", "conv VAE")], results.loc[("digits_28x28", "VAE")]
    dims = [d for d in digits.loc["PCA"].index if d <= 8]
    verdicts = {
        "(1)": digits.loc[("VAE", 2), "knn_mean"] >= 1.3 * digits.loc[("PCA", 2), "knn_mean"],
        "(2)": digits.loc[("VAE", 8), "svc_mean"] >= digits.loc[("PCA", 8), "svc_mean"],
        "(3)": all(digits.loc[("Autoencoder", d), "recon_mse_mean"] < digits.loc[("PCA", d), "recon_mse_mean"]
                   for d in dims),
        "(4)": all(roll.loc[("VAE", 2), m] > roll.loc[("PCA", 2), m] for m in ("knn_mean", "trustworthiness_mean")),
        "(5)": all(conv.loc[d, m] > dense.loc[d, m] for d in (2, 8) for m in ("svc_mean", "knn_mean")),
    }
    for number, met in verdicts.items():
        assert f": {'MET' if met else 'NOT MET'} (" in lines[number], (lines[number], met)


def test_family_benchmark_smoke_run(tmp_path):
    completed = run_script("family", "--quick", "--output", tmp_path)
    assert completed.returncode == 0, completed.stderr[-3000:]
    results = pd.read_csv(tmp_path / "family.csv")
    assert set(results["experiment"]) == {"conditional", "denoising", "sparsity"}
    assert {"denoising Autoencoder", "denoising VAE", "PCA"} <= set(results["method"])
    targets = completed.stdout[completed.stdout.index("Targets:"):]
    assert targets.count("(2)") == 3 and "(1) digits 8x8" in targets and "(3) sparsity" in targets


def test_imputation_benchmark_smoke_run(tmp_path):
    pytest.importorskip("statsmodels")
    completed = run_script("imputation", "--quick", "--output", tmp_path)
    assert completed.returncode == 0, completed.stderr[-3000:]
    results = pd.read_csv(tmp_path / "imputation.csv")
    assert set(results["data"]) == {"fair", "randhie", "synthetic"}
    assert {"VAEImputer", "VAEImputer, defaults", "SimpleImputer", "KNNImputer", "IterativeImputer"} <= set(
        results["method"])
    assert "| data | missing | VAE mu(x) | OneHot+Simple+Scaler+PCA | majority class |" in completed.stdout
    majority = results.loc[results["method"] == "downstream: majority class", "accuracy"]
    assert len(majority) == 9 and majority.between(0, 1).all()
    for method in ("VAEImputer", "VAEImputer, defaults"):  # each tallied against the three rivals
        assert f"{method}, against the three scikit-learn imputers: the lowest RMSE in " in completed.stdout
