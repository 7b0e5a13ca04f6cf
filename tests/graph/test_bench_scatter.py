"""bench/scatter.py runs, and the cases it times compute the same sums (no timing asserted)."""

from bench import scatter


def test_scatter_bench_runs_every_case(capsys):
    times = scatter.main(runs=2)
    assert {"np.add.at", "sorted reduceat (axonic)"} <= set(times)
    assert all(len(ts) == 2 for ts in times.values())
    assert "sorted reduceat (axonic)" in capsys.readouterr().out
