"""One import name: the design card's folders install as covsde.derive, covsde.solvers, ... and nothing
else lands in site-packages; a stale ``import derive`` from the repository root fails with the right name."""
import subprocess
import sys
import tomllib
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[1]
PYPROJECT = tomllib.loads((ROOT / "pyproject.toml").read_text())
SOURCE_FOLDERS = {"derive": "covsde.derive", "solvers": "covsde.solvers", "design": "covsde.design",
                  "paper_checks": "covsde.paper_checks", "benchmarks": "covsde.benchmarks",
                  "covsde": "covsde"}


def test_every_source_package_is_installed_under_covsde():
    declared = set(PYPROJECT["tool"]["setuptools"]["packages"])
    mapping = PYPROJECT["tool"]["setuptools"]["package-dir"]
    assert {name: folder for name, folder in mapping.items()} == {v: k for k, v in SOURCE_FOLDERS.items()}
    on_disk = set()
    for folder, package in SOURCE_FOLDERS.items():
        for init in (ROOT / folder).rglob("__init__.py"):
            relative = init.parent.relative_to(ROOT / folder).parts
            on_disk.add(".".join((package,) + relative))
    assert on_disk == declared, f"packages missing from pyproject: {sorted(on_disk - declared)}"
    assert all(name == "covsde" or name.startswith("covsde.") for name in declared)


@pytest.mark.parametrize("folder", ["derive", "solvers", "paper_checks", "benchmarks"])
def test_stale_top_level_import_fails_naming_the_right_import(folder):
    done = subprocess.run([sys.executable, "-c", f"import {folder}"], cwd=ROOT,
                          capture_output=True, text=True, timeout=120)
    assert done.returncode != 0
    last = done.stderr.strip().splitlines()[-1]
    assert last.startswith("ImportError") and f"import it as 'covsde.{folder}'" in last
