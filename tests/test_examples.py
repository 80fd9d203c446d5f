"""Every script in examples/ runs in quick mode and writes its figure.

The scripts run in this process (``runpy``), as ``python examples/NAME.py``
would run them: importing torch, scikit-learn and matplotlib anew for each
would take most of the time budget on a small machine.
"""

import runpy
import sys
from pathlib import Path

import pytest

EXAMPLES = Path(__file__).resolve().parents[1] / "examples"
SCRIPTS = sorted(
    path
    for path in EXAMPLES.glob("*.py")
    if not path.name.startswith("_") and path.name != "make_figures.py"
)


def test_examples_are_found():
    assert len(SCRIPTS) >= 5


@pytest.mark.parametrize("script", SCRIPTS, ids=lambda path: path.stem)
def test_example_writes_its_figure_in_quick_mode(script, tmp_path, monkeypatch, capsys):
    monkeypatch.setenv("SKVAE_EXAMPLES_QUICK", "1")
    monkeypatch.setattr(sys, "argv", [str(script), "--output", str(tmp_path / "out")])
    monkeypatch.syspath_prepend(str(EXAMPLES))  # where `import _common` looks
    try:
        runpy.run_path(str(script), run_name="__main__")
    except SystemExit as exit_:  # argparse and sys.exit end this way
        assert exit_.code in (None, 0), f"{script.name} exited with {exit_.code}"

    written = list((tmp_path / "out").iterdir())
    assert [path.name for path in written] == [f"{script.stem}.png"]
    assert written[0].read_bytes()[:8] == b"\x89PNG\r\n\x1a\n"
    assert written[0].stat().st_size > 1000
    assert "wrote" in capsys.readouterr().out
