"""`covsde bench` runs end to end (one cheap benchmark). No timing is asserted: speed is measured
by the benchmarks themselves, never by the test suite."""
from covsde.cli import main


def test_bench_quick_runs_one_benchmark_and_prints_markdown_table(capsys, tmp_path):
    table_file = tmp_path / "bench.md"
    assert main(["bench", "generated_drift", "--quick", "--markdown", str(table_file)]) == 0
    out = capsys.readouterr().out
    assert "| # | benchmark | measured | value | target | met |" in out
    assert "| 6 | Generated vs hand-written drift | sde.drift / hand-written" in out
    written = table_file.read_text()
    assert "cores (`nproc`)" in written and "NumPy" in written


def test_bench_rejects_unknown_benchmark_name(capsys):
    assert main(["bench", "no_such_benchmark"]) == 2
    assert "unknown benchmark 'no_such_benchmark'" in capsys.readouterr().err
