"""The README's quickstart runs as written."""

import re
from pathlib import Path

README = Path(__file__).resolve().parents[1] / "README.md"


def _section_code(title):
    text = README.read_text()
    section = text.split(f"## {title}\n", 1)[1].split("\n## ", 1)[0]
    return re.findall(r"```python\n(.*?)```", section, flags=re.S)


def test_quickstart_runs_as_written(capsys):
    (code,) = _section_code("Quickstart")
    exec(compile(code, str(README), "exec"), {})
    out = capsys.readouterr().out
    accuracy = float(re.search(r"SVC accuracy on mu\(x\): ([\d.]+)", out).group(1))
    assert accuracy > 0.9
    assert re.search(r"best beta: (0\.5|1|2)\b", out)
