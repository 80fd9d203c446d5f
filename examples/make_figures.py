"""Regenerate the committed figures: run every example in full mode into docs/.

``make figures`` calls this. Each example runs in its own process, as a user
would run it; ``--output DIR`` writes somewhere else.
"""

import argparse
import os
import subprocess
import sys
import time
from pathlib import Path

EXAMPLES = Path(__file__).resolve().parent


def example_scripts():
    """The runnable examples: every script here but the helpers and this one."""
    return [
        path
        for path in sorted(EXAMPLES.glob("*.py"))
        if not path.name.startswith("_") and path.name != Path(__file__).name
    ]


def main():
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--output", type=Path, default=EXAMPLES.parent / "docs")
    output = parser.parse_args().output
    # The committed figures come from the full setting whatever the caller's shell says.
    env = {key: value for key, value in os.environ.items() if key != "SKVAE_EXAMPLES_QUICK"}
    for script in example_scripts():
        print(f"== {script.name}", flush=True)
        start = time.perf_counter()
        subprocess.run([sys.executable, str(script), "--output", str(output)], env=env, check=True)
        print(f"   ({time.perf_counter() - start:.1f} s)", flush=True)


if __name__ == "__main__":
    main()
