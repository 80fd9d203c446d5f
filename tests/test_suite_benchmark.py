"""benchmarks/suite.py (issue 19's harness) runs end to end, and its measurements mean what they say.

The smoke run trains for 2 epochs on two small data sets: it checks the
plumbing (folds, the three methods, the CSV, the tables, the Targets block,
--report and --compare), not the numbers. The other tests check the pieces
the numbers rest on: the hand-made inverse of PCA's pipeline, the parallel
analysis behind "carries signal", the fold fallback and the halves.
"""

import json

import datasets  # benchmarks/, put on sys.path by conftest.py
import numpy as np
import pandas as pd
import pytest
import suite
from conftest import run_script

# The benchmark extras: the smoke data (penguins, wine) and the timing case's flights.
_missing = [name for name in ("penguins", "wine", "flights") if not datasets.available(name)]
pytestmark = pytest.mark.skipif(
    bool(_missing), reason=f"benchmark extras missing for {_missing}: pip install 'skvae[benchmarks]'"
)


def _run(*args):
    return run_script("suite", *args)


@pytest.fixture(scope="module")
def smoke_run(tmp_path_factory):
    output = tmp_path_factory.mktemp("suite")
    return _run("--smoke", "--output", output), output


def test_smoke_run_writes_one_row_per_cell(smoke_run):
    completed, output = smoke_run
    assert completed.returncode == 0, completed.stderr[-3000:]
    results = suite.read_results(output / "suite.csv")
    cells = results[results["kind"] == "cell"]
    # two data sets x one dim x one fold x three methods, none failed
    assert sorted(cells["dataset"].unique()) == ["penguins", "wine"]
    assert cells.groupby("dataset")["method"].apply(sorted).tolist() == [["AE", "PCA", "VAE"]] * 2
    assert (cells["error"] == "").all(), cells["error"].tolist()
    assert cells[["logreg_acc", "knn_acc"]].apply(lambda c: c.between(0, 1)).all().all()
    # penguins has numbers and categories (with holes), wine only numbers
    penguins, wine = (cells[cells["dataset"] == name].set_index("method") for name in ("penguins", "wine"))
    assert penguins[["recon_num_mse", "recon_cat_err"]].notna().all().all()
    assert wine["recon_cat_err"].isna().all()
    assert wine[["recon_num_mse", "recon_num_mse_raw"]].notna().all().all()
    # log-likelihoods: only on the all-numeric table without holes, never for the AE
    assert penguins["loglik"].isna().all()
    assert wine.loc[["PCA", "VAE"], "loglik"].notna().all() and pd.isna(wine.loc["AE", "loglik"])
    assert pd.notna(wine.loc["PCA", "fa_loglik"])
    # the VAE reports its active units; 2 epochs warn, and the warning is counted
    assert cells.loc[cells["method"] == "VAE", "n_active_units"].between(0, 2).all()
    assert (cells.loc[cells["method"] != "PCA", "method_convergence_warnings"] > 0).all()
    assert (cells["threads"] == 1).all()
    timing = results[results["kind"] == "timing"].iloc[0]
    assert (timing["n_rows"], timing["n_features"]) == (10_000, 20) and timing["fit_s"] > 0


def test_smoke_run_prints_tables_and_targets(smoke_run):
    completed, output = smoke_run
    stdout = completed.stdout
    assert "| dataset | half | rows used (of) |" in stdout
    assert "| dataset | dim | method | LogReg acc |" in stdout
    for dataset in ("penguins", "wine"):
        for method in ("PCA", "VAE", "AE"):
            assert f"| {dataset} | 2 | {method} |" in stdout
    assert "VAE: ConvergenceWarning in" in stdout
    targets = stdout[stdout.index("Targets") :]
    lines = {number: next(line for line in targets.splitlines() if line.startswith(number))
             for number in ("(1a)", "(1b)", "(2)", "(3)")}
    # Each verdict is the one the CSV's numbers give, recomputed here from the cells.
    results = suite.read_results(output / "suite.csv")
    cells = results[results["kind"] == "cell"]
    accuracy = cells.groupby(["dataset", "dim", "method"])["logreg_acc"].agg(["mean", lambda a: a.std(ddof=0)])
    accuracy.columns = ["mean", "std"]
    pca, vae = accuracy.xs("PCA", level="method"), accuracy.xs("VAE", level="method")
    majority = cells[cells["method"] == "PCA"].groupby(["dataset", "dim"])["majority_acc"].mean()
    judged = ~((pca["mean"] <= majority + pca["std"]) & ~(vae["mean"] > majority + pca["std"]))
    ties = (vae["mean"] >= pca["mean"] - pca["std"])[judged]
    ratio = (vae["mean"] / pca["mean"]).min()
    vae_fits = cells[cells["method"] == "VAE"]
    checked = vae_fits[vae_fits["pca_signal"].astype(str) == "True"]
    collapsed = (checked["n_active_units"] < checked["dim"] - 1).any()
    for number, met in (("(1a)", ties.mean() >= suite.TIE_SHARE), ("(1b)", ratio >= suite.MIN_RATIO),
                        ("(2)", not collapsed)):
        assert f": {'MET' if met else 'NOT MET'} (" in lines[number], (lines[number], met)
    assert f"({int(ties.sum())} of {len(ties)} = " in lines["(1a)"]
    # The smoke run times a 2-epoch model, not the defaults the target names.
    assert ": n/a (not the defaults) (" in lines["(3)"]
    assert (output / "suite.md").read_text().strip() in stdout


def test_report_reprints_without_refitting(smoke_run):
    _, output = smoke_run
    reprinted = _run("--report", output / "suite.csv")
    assert reprinted.returncode == 0, reprinted.stderr[-3000:]
    assert reprinted.stdout.strip() == (output / "suite.md").read_text().strip()


def test_compare_prints_the_difference_of_two_variants(smoke_run, tmp_path):
    _, output = smoke_run
    results = suite.read_results(output / "suite.csv")
    variant = results.copy()
    variant["label"] = "better"
    variant["params"] = json.dumps({"free_bits": 0.5})
    is_vae = (variant["method"] == "VAE") & (variant["dataset"] == "wine")
    variant.loc[is_vae, "logreg_acc"] += 0.125
    variant.to_csv(tmp_path / "variant.csv", index=False)
    completed = _run("--compare", output / "suite.csv", tmp_path / "variant.csv")
    assert completed.returncode == 0, completed.stderr[-3000:]
    rows = {line.split(" | ")[0].strip("| "): line for line in completed.stdout.splitlines()
            if line.startswith(("| penguins", "| wine"))}
    assert "| +0.125 |" in rows["wine"] and "| +0.000 |" in rows["penguins"]
    assert "B better in 1, worse in 0" in completed.stdout
    assert completed.stdout.count("Targets (reported") == 2  # one block per variant


def test_compare_takes_a_variant_run_without_pca(smoke_run, tmp_path):
    # A variant is run with --methods VAE alone (PCA does not depend on --params): it is judged
    # against the other run's PCA cells. This raised KeyError 'vae'.
    _, output = smoke_run
    results = suite.read_results(output / "suite.csv")
    variant = results[results["method"] == "VAE"].copy()
    variant["label"] = "vae only"
    is_wine = variant["dataset"] == "wine"
    variant.loc[is_wine, "logreg_acc"] += 0.25
    variant.to_csv(tmp_path / "variant.csv", index=False)
    completed = _run("--compare", output / "suite.csv", tmp_path / "variant.csv")
    assert completed.returncode == 0, completed.stderr[-3000:]
    assert "B ran without PCA: the other run's PCA cells stand in." in completed.stdout
    rows = {line.split(" | ")[0].strip("| "): line for line in completed.stdout.splitlines()
            if line.startswith(("| penguins", "| wine"))}
    assert "| +0.250 |" in rows["wine"] and "| +0.000 |" in rows["penguins"]
    assert "WARNING: PCA's accuracy differs" not in completed.stdout


def test_pca_pipeline_inverts_exactly_at_full_rank():
    # With as many components as one-hot + numeric columns, PCA loses nothing:
    # the hand-made inverse must give back every observed number and category.
    X = datasets.load("penguins").X.dropna()
    pipe = suite.make_method("PCA", X, 10, {})  # 5 numbers + 3 islands + 2 sexes
    Z = pipe.fit(X).transform(X)
    errors = suite.reconstruction_errors(X, suite.pca_reconstruction(pipe, Z, X), X)
    assert errors["recon_num_mse"] < 1e-20 and errors["recon_cat_err"] == 0
    # and with 2 components it loses something, in both kinds of column
    pipe = suite.make_method("PCA", X, 2, {}).fit(X)
    errors = suite.reconstruction_errors(X, suite.pca_reconstruction(pipe, pipe.transform(X), X), X)
    assert 0.05 < errors["recon_num_mse"] < 1 and 0 < errors["recon_cat_err"] < 1


def test_pca_reads_images_raw_and_the_vae_scores_no_density_there():
    from sklearn.decomposition import PCA
    from sklearn.preprocessing import StandardScaler

    from skvae import VAETransformer

    X = pd.DataFrame(datasets.load("digits").X.to_numpy()[:300])
    pipe = suite.make_method("PCA", X, 4, {}, images=True).fit(X)
    assert not any(isinstance(step, StandardScaler) for step in pipe["columns"].named_transformers_["numbers"])
    np.testing.assert_allclose(pipe.transform(X), PCA(4, random_state=suite.SEED).fit_transform(X), atol=1e-9)
    Z = pipe.transform(X)  # and the hand-made inverse is PCA's own
    np.testing.assert_allclose(suite.pca_reconstruction(pipe, Z, X).to_numpy(), pipe["pca"].inverse_transform(Z))
    loglik, fa = suite.log_likelihoods("PCA", pipe, X, X, 4)
    assert np.isfinite(loglik) and np.isfinite(fa)
    vae = VAETransformer(2, max_iter=2, random_state=0).fit(X)  # pixels in [0, 1]: Bernoulli
    assert np.isnan(suite.log_likelihoods("VAE", vae, X, X, 2)).all()


def test_a_vae_that_failed_on_a_fold_does_not_tie():
    rows = []
    for fold, (pca, vae, error) in enumerate([(0.80, 0.90, ""), (0.80, 0.90, ""), (0.80, np.nan, "boom")]):
        base = {"kind": "cell", "dataset": "wine", "dim": 2, "fold": fold}
        rows.append({**base, "method": "PCA", "logreg_acc": pca, "error": ""})
        rows.append({**base, "method": "VAE", "logreg_acc": vae, "error": error})
    settings = suite.accuracy_settings(pd.DataFrame(rows))
    assert settings["vae"].isna().all() and not settings["tie"].any()
    rows[-1].update(logreg_acc=0.9, error="")
    assert suite.accuracy_settings(pd.DataFrame(rows))["tie"].all()


def test_settings_where_neither_beats_the_majority_class_are_left_out_of_the_tally():
    # caravan: PCA 0.940 ± 0.000 and the VAE 0.940, both what predicting the most common class scores;
    # six such ties were counted as the VAE's.
    rows = []
    for dataset, pca, vae, majority in [("caravan", 0.940, 0.940, 0.940), ("fair", 0.666, 0.657, 0.677),
                                        ("wine", 0.96, 0.95, 0.40), ("hitters", 0.47, 0.55, 0.51)]:
        for fold in range(2):
            base = {"kind": "cell", "dataset": dataset, "dim": 2, "fold": fold, "error": "", "majority_acc": majority}
            rows.append({**base, "method": "PCA", "logreg_acc": pca})
            rows.append({**base, "method": "VAE", "logreg_acc": vae})
    settings = suite.accuracy_settings(pd.DataFrame(rows))
    assert settings["informative"].to_dict() == {("caravan", 2): False, ("fair", 2): False,
                                                 ("wine", 2): True, ("hitters", 2): True}
    line = next(line for line in suite.targets(pd.DataFrame(rows)).splitlines() if line.startswith("(1a)"))
    assert "(1 of 2 = 50%; the 2 where neither beats predicting the most common class" in line
    assert "1 of them ties: all settings 2 of 4 = 50%" in line
    # A VAE that failed is no uninformative setting: it counts, as a loss.
    failed = [dict(row, logreg_acc=np.nan, error="boom") if row["dataset"] == "caravan" and row["method"] == "VAE"
              else row for row in rows]
    assert suite.accuracy_settings(pd.DataFrame(failed))["informative"][("caravan", 2)]
    uninformative = [row for row in rows if row["dataset"] in ("caravan", "fair")]
    line = next(line for line in suite.targets(pd.DataFrame(uninformative)).splitlines() if line.startswith("(1a)"))
    assert ": n/a (no setting where either beats the majority class) (none judged; the 2 where" in line


def test_reconstruction_errors_score_observed_entries_only():
    X = pd.DataFrame({"x": [0.0, 2.0, np.nan, 4.0], "c": pd.Categorical(["a", None, "b", "b"]),
                      "flag": [True, False, True, False]})
    hat = pd.DataFrame({"x": [1.0, 2.0, 100.0, 4.0], "c": ["a", "b", "a", "b"],
                        "flag": [0.9, 0.6, 0.2, 0.1]})
    errors = suite.reconstruction_errors(X, hat, X)
    std = np.std([0.0, 2.0, 4.0])
    assert errors["recon_num_mse"] == pytest.approx((1 / std) ** 2 / 3)  # the hole's 100 is not scored
    assert errors["recon_num_mse_raw"] == pytest.approx(1 / 3)
    assert errors["recon_cat_err"] == pytest.approx(3 / 7)  # c: 1 wrong of 3 observed; flag: 2 of 4


def test_pca_signal_is_parallel_analysis():
    rng = np.random.RandomState(0)
    latent = rng.normal(size=(400, 2))
    X = pd.DataFrame(latent @ rng.normal(size=(2, 10)) + 0.1 * rng.normal(size=(400, 10)))
    assert suite.pca_signal(X, 2)[2]  # two real directions...
    ratio, null, signal = suite.pca_signal(X, 3)
    assert not signal and ratio < null  # ...and the third is noise
    noise = pd.DataFrame(rng.normal(size=(400, 10)))
    assert not suite.pca_signal(noise, 1)[2]


def test_folds_fall_back_to_kfold_for_tiny_classes():
    y = np.array([0] * 20 + [1] * 20 + [2])
    folds, name = suite.outer_folds(y, 3)
    assert name.startswith("KFold") and len(folds) == 3
    assert sorted(np.concatenate([test for _, test in folds])) == list(range(len(y)))
    folds, name = suite.outer_folds(y[:-1], 3)
    assert name == "StratifiedKFold"
    for train, test in folds:  # every class in every test fold
        assert set(y[test]) == {0, 1}


def test_halves_split_the_registry_by_kind():
    a, b = (set(suite.HALVES[half]) for half in "AB")
    assert not a & b and a | b == set(datasets.names())
    for tag in ("mixed", "missing", "counts", "wide", "large", "images"):
        tagged = set(datasets.names(tag))
        assert a & tagged and b & tagged, tag


def test_demo_profile_covers_each_kind_of_data_at_the_defaults():
    args, params = suite.parse_args(["--demo"])
    assert params == {} and args.label == "demo"
    assert args.datasets == list(suite.DEMO["datasets"]) and set(args.datasets) <= set(datasets.names())
    assert (args.folds, args.max_rows) == (suite.DEMO["folds"], suite.DEMO["max_rows"])
    for tag in ("mixed", "missing", "large", "images"):
        assert set(args.datasets) & set(datasets.names(tag)), tag
