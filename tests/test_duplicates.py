"""No block of six or more lines is repeated between the two database backends, or between
the admin and the command line (scripts/duplicates): what they share is written once, in the
gateway and in operations.py. And no module of widget/ grows past 350 lines: one that does
holds more than one noun, and a newcomer reads it whole to change a part."""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
SCRIPT = ROOT / "scripts" / "duplicates"
MODULE_LINES = 350


def run(*args: str) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [sys.executable, str(SCRIPT), *args], capture_output=True, text=True, timeout=60
    )


def test_the_backends_and_the_admin_and_cli_repeat_no_block():
    done = run()
    assert done.returncode == 0, done.stdout
    assert done.stdout.strip().endswith("0 block(s) of 6 or more lines repeated")


def test_the_check_finds_a_repeated_block(tmp_path):
    block = "\n".join(f"    value_{i} = compute_something_long({i}, keyword={i})" for i in range(6))
    (tmp_path / "a.py").write_text(f"def a():\n    # one\n{block}\n    return 1\n")
    (tmp_path / "b.py").write_text(f"def b():\n\n{block}\n    return 2\n")
    done = run(str(tmp_path / "a.py"), str(tmp_path / "b.py"))
    assert done.returncode == 1
    assert "a.py:3 = " in done.stdout and "b.py:3 (6 lines)" in done.stdout
    # Five such lines are below the bar; six short lines (closing brackets) are no block.
    (tmp_path / "c.py").write_text("\n".join(block.splitlines()[:5]) + "\n")
    assert run(str(tmp_path / "a.py"), str(tmp_path / "c.py")).returncode == 0
    (tmp_path / "d.py").write_text(")\n]\n}\nelse:\nreturn\npass\n" * 2)
    assert run(str(tmp_path / "d.py"), str(tmp_path / "d.py")).returncode == 0


def test_no_module_of_the_package_is_over_350_lines():
    modules = sorted((ROOT / "widget").rglob("*.py"))
    assert len(modules) > 50  # the package, found where it is
    long = {
        str(path.relative_to(ROOT)): lines
        for path in modules
        if (lines := len(path.read_text().splitlines())) > MODULE_LINES
    }
    assert long == {}, f"over {MODULE_LINES} lines: split by noun"
