"""benchmarks/synthesis.py: the scores' plumbing, and a quick run end to end (its numbers mean nothing).

SDV is optional (the quick run notes its absence and scores skvae alone);
sdmetrics and palmerpenguins come with the ``benchmarks`` extra.
"""

import numpy as np
import pandas as pd
import pytest
from conftest import run_script


@pytest.fixture(scope="module")
def synthesis():
    pytest.importorskip("sdmetrics")
    pytest.importorskip("palmerpenguins")
    import synthesis  # benchmarks/, put on sys.path by conftest.py

    return synthesis


def test_real_rows_score_as_a_perfect_synthesis_and_shuffled_columns_lose_pairs(synthesis):
    train, test, target = synthesis.table("penguins", max_rows=None)
    kinds = synthesis.kinds(train)
    assert kinds["species"] == "categorical" and kinds["body_mass_g"] == "numerical"
    scores, columns = synthesis.evaluate(train, train, kinds)
    assert scores["quality"] == pytest.approx(1.0) and scores["out_of_range"] == 0
    assert all(c["shape_score"] == pytest.approx(1.0) for c in columns)
    assert scores["missing_real"] == scores["missing_synthetic"] > 0

    # Each column shuffled on its own: the same marginals, no pairs left.
    rng = np.random.RandomState(0)
    shuffled = train.apply(lambda column: column.iloc[rng.permutation(len(column))].to_numpy())
    scores, _ = synthesis.evaluate(train, shuffled, kinds)
    assert scores["shapes"] == pytest.approx(1.0) and scores["pairs"] < 0.85

    # The classifier learns species from real rows and not from shuffled ones.
    real = synthesis.accuracy(train, train, test, target)
    assert real > 0.9 and synthesis.accuracy(shuffled, train, test, target) < real - 0.2


def test_synthesis_benchmark_quick_run(synthesis, tmp_path):
    completed = run_script("synthesis", "--quick", "--output", tmp_path)
    assert completed.returncode == 0, completed.stderr[-3000:]
    stdout = completed.stdout
    has_sdv = synthesis.sdv_version(synthesis.DEFAULT_SDV_PATH) is not None
    results = pd.read_csv(tmp_path / "synthesis.csv")
    assert set(results["table"]) == {"penguins"}
    methods = {"skvae", "GaussianCopula", "TVAE"} if has_sdv else {"skvae"}
    if not has_sdv:
        assert "note: SDV is not importable" in stdout
    assert set(results["method"]) == methods
    assert "error" not in results or results["error"].isna().all(), results["error"].dropna().tolist()

    plain = results[results["task"] == "unconditional"]
    assert set(zip(plain["method"], plain["sample"])) >= {("skvae", "mean"), ("skvae", "draw")}
    assert (plain["n_samples"] == plain["train_rows"]).all()
    assert plain[["quality", "shapes", "pairs", "tstr", "trtr"]].apply(lambda c: c.between(0, 1)).all().all()
    assert (plain["fit_s"] > 0).all() and (plain["peak_mb"] > plain["fit_mb"]).all()
    conditional = results[results["task"] == "conditional"]
    skvae = conditional[conditional["method"] == "skvae"]
    assert len(skvae) == 2 and (skvae["match"] == 1).all() and (skvae["n_samples"] == skvae["n_asked"]).all()

    assert "| table | rows | method | sample | quality |" in stdout
    assert "| table | condition | method | sample |" in stdout
    block = stdout[stdout.index("Targets"):]
    # Each verdict is the one the CSV's numbers give: skvae's score at least every rival's.
    by_method = plain.set_index(["method", "sample"])
    for number, column, rivals in (("(1)", "quality", ["GaussianCopula", "TVAE"]), ("(2)", "tstr", ["TVAE"])):
        lines = [line for line in block.splitlines() if line.startswith(number)]
        assert lines, number
        for line in lines:
            if not has_sdv:
                assert "n/a" in line, line
                continue
            ours = by_method.loc[("skvae", "draw" if "(draw)" in line else "mean"), column]
            best = max(by_method.loc[(rival, "sample"), column] for rival in rivals)
            assert f": {'MET' if ours >= best else 'NOT MET'} (" in line, (line, ours, best)
    line = next(line for line in block.splitlines() if line.startswith("(3)"))
    assert "n/a" in line  # 2 TVAE epochs are not TVAE's default

    columns = pd.read_csv(tmp_path / "synthesis_columns.csv")
    assert set(columns["column"]) == set(synthesis.kinds(synthesis.table("penguins", 200)[0]))
    assert (tmp_path / "synthesis.md").read_text().strip() in stdout

    # --report prints the same tables and targets from the CSV alone.
    again = run_script("synthesis", "--report", tmp_path / "synthesis.csv")
    assert again.returncode == 0, again.stderr[-3000:]
    assert again.stdout.strip() == (tmp_path / "synthesis.md").read_text().strip()

    # Runs with other seeds report together: the targets compare means over the seeds.
    other = results.copy()
    other["seed"] += 1
    other.loc[other["method"] == "skvae", "tstr"] = 1.0
    other.to_csv(tmp_path / "other.csv", index=False)
    both = run_script("synthesis", "--report", tmp_path / "synthesis.csv", tmp_path / "other.csv")
    assert both.returncode == 0, both.stderr[-3000:]
    assert "Over the 2 seeds" in both.stdout and "skvae (seed 1)" in both.stdout
    first = plain.set_index(["method", "sample"])["tstr"]
    mean = (first[("skvae", "draw")] + 1.0) / 2
    row = next(line for line in both.stdout.splitlines() if line.startswith("| penguins | skvae | draw | 2 |"))
    assert row.split("|")[6].strip().startswith(f"{mean:.3f} ± "), row  # the TSTR column
    if has_sdv:
        line = next(line for line in both.stdout.splitlines() if line.startswith("(2)") and "(draw)" in line)
        assert f"penguins: {mean:.3f} vs" in line, line
