"""How long ``import skvae`` takes in a fresh process, beside what it stands on.

Each repeat starts one fresh interpreter per case, in turn (the machine's
load moves between repeats; cases measured back to back share it), and
times the import statement alone, not the interpreter's start:

* ``import torch, sklearn.base, pandas``: what skvae cannot do without;
* ``import skvae`` from each source tree given (``--trees``, default this
  repository's), so that a change is measured against the code before it
  (``git worktree add /tmp/before HEAD~1``) in one run.

Compiled bytecode goes to a cache of the run's own (``PYTHONPYCACHEPREFIX``),
warmed by one import per case first, as an installed package has it.

    OMP_NUM_THREADS=1 python benchmarks/import_time.py                       # about 30 s
    OMP_NUM_THREADS=1 python benchmarks/import_time.py --trees /tmp/before .  # a change, side by side
"""

import argparse
import os
import statistics
import subprocess
import sys
import tempfile
from pathlib import Path

_TIMED = "import time; start = time.perf_counter(); {statement}; print(time.perf_counter() - start)"


def seconds(statement, tree, cache):
    """The import's time in a fresh interpreter whose path starts at ``tree``."""
    env = {**os.environ, "PYTHONPYCACHEPREFIX": cache}
    env.pop("PYTHONDONTWRITEBYTECODE", None)
    if tree is not None:
        env["PYTHONPATH"] = str(tree)
    out = subprocess.run([sys.executable, "-c", _TIMED.format(statement=statement)], env=env, cwd=tempfile.gettempdir(),
                         capture_output=True, text=True, check=True)
    return float(out.stdout.strip().splitlines()[-1])


def main():
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--trees", nargs="+", default=[str(Path(__file__).resolve().parents[1])],
                        help="source trees to import skvae from (default: this repository)")
    parser.add_argument("--repeats", type=int, default=9, help="fresh processes per case (default 9)")
    args = parser.parse_args()
    cases = [("torch, sklearn.base, pandas", "import torch, sklearn.base, pandas", None)]
    cases += [(f"skvae from {tree}", "import skvae", Path(tree).resolve()) for tree in args.trees]
    with tempfile.TemporaryDirectory() as cache:
        for _, statement, tree in cases:
            seconds(statement, tree, cache)
        times = {name: [] for name, _, _ in cases}
        for _ in range(args.repeats):
            for name, statement, tree in cases:
                times[name].append(seconds(statement, tree, cache))
    print(f"median of {args.repeats} fresh processes each, in turn (min - max):")
    for name, values in times.items():
        print(f"  {name}: {statistics.median(values) * 1e3:.0f} ms ({min(values) * 1e3:.0f} - {max(values) * 1e3:.0f})")


if __name__ == "__main__":
    main()
