"""Where `covsde check` and `covsde bench` write: the working directory or --figures DIR, never the
installed package, and a folder that cannot be written is refused before minutes of work start."""
from pathlib import Path

import pytest

import covsde.benchmarks
import covsde.paper_checks
from covsde.cli import main
from covsde.figure_directory import DEFAULT_FIGURE_DIR, figure_directory

PACKAGE_FOLDERS = [Path(covsde.paper_checks.__file__).parent,
                   Path(covsde.paper_checks.__file__).parent.parent / "benchmarks"]


def _package_files():
    return {path for folder in PACKAGE_FOLDERS for path in folder.rglob("*") if path.suffix == ".png"}


def _must_not_run(*args, **kwargs):
    raise AssertionError("the run started although its output folder is not writable")


def test_full_runs_draw_into_the_working_directory_and_quick_runs_draw_nothing(tmp_path, monkeypatch):
    monkeypatch.chdir(tmp_path)
    assert figure_directory(None, quick=True) is None
    assert figure_directory(None, quick=False) == Path(DEFAULT_FIGURE_DIR)
    assert (tmp_path / DEFAULT_FIGURE_DIR).is_dir()
    assert figure_directory("elsewhere/deeper", quick=True) == Path("elsewhere/deeper")
    assert (tmp_path / "elsewhere" / "deeper").is_dir()


@pytest.mark.parametrize("command", [["check", "shaping_exponent"], ["bench", "generated_drift"]])
def test_an_unwritable_figure_folder_is_refused_before_the_run(tmp_path, monkeypatch, capsys, command):
    monkeypatch.setattr(covsde.paper_checks, "run_check", _must_not_run)
    monkeypatch.setattr(covsde.benchmarks, "run_benchmark", _must_not_run)
    blocker = tmp_path / "a-file"
    blocker.write_text("not a folder")
    assert main([*command, "--figures", str(blocker / "figures")]) == 2
    err = capsys.readouterr().err.strip().splitlines()
    assert len(err) == 1 and "cannot write figures" in err[0] and "--figures DIR" in err[0]


def test_bench_refuses_a_markdown_file_it_cannot_create_before_the_run(tmp_path, monkeypatch, capsys):
    monkeypatch.setattr(covsde.benchmarks, "run_benchmark", _must_not_run)
    blocker = tmp_path / "a-file"
    blocker.write_text("not a folder")
    assert main(["bench", "generated_drift", "--quick", "--markdown", str(blocker / "t.md")]) == 2
    err = capsys.readouterr().err.strip().splitlines()
    assert len(err) == 1 and f"cannot write --markdown {blocker / 't.md'}" in err[0]


def test_bench_creates_the_folder_of_its_markdown_file(tmp_path, monkeypatch, capsys):
    # a folder that does not exist yet is created before the run (and the run is not started here)
    monkeypatch.setattr(covsde.benchmarks, "run_benchmark", _must_not_run)
    with pytest.raises(AssertionError, match="the run started"):
        main(["bench", "generated_drift", "--quick", "--markdown", str(tmp_path / "new" / "t.md")])
    assert (tmp_path / "new").is_dir() and not (tmp_path / "new" / "t.md").exists()


def test_check_draws_its_figures_into_the_folder_given_and_not_into_the_package(tmp_path, monkeypatch, capsys):
    pytest.importorskip("matplotlib", reason="figures need the plot extra")
    monkeypatch.chdir(tmp_path)
    before = _package_files()
    assert main(["check", "shaping_exponent", "--quick", "--figures", "figs"]) == 0
    out = capsys.readouterr().out
    assert (tmp_path / "figs" / "shaping_exponent.png").stat().st_size > 0
    assert "figure: figs/shaping_exponent.png" in out
    assert _package_files() == before
