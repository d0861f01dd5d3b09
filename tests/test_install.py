"""Reproducible installs: the README's set-up commands install exactly the locked versions,
CI runs the README's test command, and a first start in a checkout leaves nothing to commit."""

from __future__ import annotations

import os
import re
import shutil
import subprocess
import sys
import tomllib
from pathlib import Path

import pytest
from packaging.requirements import Requirement
from packaging.utils import canonicalize_name

from tests.servers import free_port, wait_until_ready

ROOT = Path(__file__).parent.parent
README = (ROOT / "README.md").read_text()
PYPROJECT = tomllib.loads((ROOT / "pyproject.toml").read_text())


def readme_commands() -> list[str]:
    """The README's two set-up commands: the first two shell blocks of its "Set-up" section."""
    setup = README.split("## Set-up", 1)[1].split("\n## ", 1)[0]
    return [block.strip() for block in re.findall(r"```sh\n(.*?)```", setup, re.DOTALL)][:2]


def locked(lock: str) -> dict[str, list[str]]:
    """Each package a lock file pins, with the lines that pin it (one per environment marker)."""
    pins: dict[str, list[str]] = {}
    for entry in re.split(r"\n(?=\S)", (ROOT / lock).read_text()):
        if not entry.strip() or entry.startswith("#"):
            continue
        requirement = entry.split(";")[0].split("\\")[0].strip()
        assert "==" in requirement, f"{lock}: {requirement!r} is not an exact version"
        assert "--hash=sha256:" in entry, f"{lock}: {requirement} has no hash"
        pins.setdefault(canonicalize_name(requirement.split("==")[0]), []).append(entry)
    return pins


def names(requirements: list[str]) -> set[str]:
    return {canonicalize_name(Requirement(r).name) for r in requirements}


def test_the_readme_has_two_set_up_commands_both_from_the_locks():
    run, test = readme_commands()
    assert "--require-hashes -r requirements.lock" in run
    assert "petition-widget serve" in run
    assert "--require-hashes -r requirements-test.lock" in test
    assert "python -m pytest" in test
    for command in (run, test):
        # The project itself: no dependency resolved outside the lock, no unpinned build backend.
        assert "--no-deps --no-build-isolation" in command


def test_ci_runs_the_readmes_test_command_as_written():
    _, test = readme_commands()
    assert test in (ROOT / ".ci" / "run").read_text()


def test_every_dependency_is_pinned_with_hashes():
    build = names(PYPROJECT["build-system"]["requires"])
    run = names(PYPROJECT["project"]["dependencies"]) | build
    test = run | names(PYPROJECT["project"]["optional-dependencies"]["test"])
    assert run <= locked("requirements.lock").keys()
    assert test <= locked("requirements-test.lock").keys()
    # The two locks agree on every package they share.
    run_pins, test_pins = locked("requirements.lock"), locked("requirements-test.lock")
    for name, lines in run_pins.items():
        assert [line.split()[0] for line in lines] == [
            line.split()[0] for line in test_pins[name]
        ], name


def test_the_lock_pins_babel_whose_plural_rules_the_catalogs_follow():
    from babel import __version__

    (pin,) = locked("requirements-test.lock")["babel"]
    assert pin.split()[0] == f"babel=={__version__}", "install from requirements-test.lock"


def test_a_first_start_in_a_checkout_leaves_nothing_to_commit(tmp_path):
    if shutil.which("git") is None:
        if os.environ.get("CI") == "true":
            pytest.fail("git is missing; under CI=true this test must run")
        pytest.skip("git is missing")
    checkout = tmp_path / "checkout"
    checkout.mkdir()
    shutil.copy(ROOT / ".gitignore", checkout / ".gitignore")
    git = ["git", "-C", str(checkout), "-c", "user.name=t", "-c", "user.email=t@example.org"]
    subprocess.run([*git, "init", "-q"], check=True)
    subprocess.run([*git, "add", ".gitignore"], check=True)
    subprocess.run([*git, "commit", "-qm", "ignore"], check=True)
    port = free_port()
    env = {k: v for k, v in os.environ.items() if not k.startswith("PETITION_WIDGET_")}
    server = subprocess.Popen(
        [sys.executable, "-m", "widget", "serve", "--port", str(port)],
        cwd=checkout, env=env, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL,
    )  # fmt: skip
    try:
        wait_until_ready(f"http://127.0.0.1:{port}", server)
    finally:
        server.terminate()
        server.wait(timeout=20)
    written = {p.name for p in checkout.rglob("*") if ".git" not in p.parts} - {".gitignore"}
    assert written, "serve wrote nothing: the test checks nothing"
    status = subprocess.run(
        [*git, "status", "--porcelain", "--untracked-files=all"],
        check=True, capture_output=True, text=True,
    ).stdout  # fmt: skip
    assert status == "", f"git add . would commit {status!r}"


@pytest.mark.parametrize(
    ("ci", "status", "processes"),
    # Also with the tests spread over processes (pytest -n 2): the workers' skips must reach
    # the run's verdict.
    [("true", 1, []), ("", 0, []), ("true", 1, ["-n", "2"])],
    ids=["ci", "laptop", "ci-xdist"],
)
def test_a_skipped_test_fails_the_run_under_ci(tmp_path, ci, status, processes):
    (tmp_path / "test_skips.py").write_text(
        "import pytest\n\ndef test_needs_a_tool():\n    pytest.skip('no such tool')\n"
    )
    shutil.copy(ROOT / "tests" / "conftest.py", tmp_path / "conftest.py")
    result = subprocess.run(
        [sys.executable, "-m", "pytest", "-p", "no:cacheprovider", "--no-cov", "-q", *processes,
         str(tmp_path)],
        cwd=ROOT, env={**os.environ, "CI": ci}, capture_output=True, text=True,
    )  # fmt: skip
    assert "1 skipped" in result.stdout
    assert result.returncode == status, result.stdout
