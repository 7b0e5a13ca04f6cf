"""bench/gpu.py runs: at toy sizes on the CPU, both frameworks start from the same loss
and every number of the report is there (no timings are asserted)."""

import json

from bench import gpu


def test_gpu_bench_runs_tiny_on_cpu_with_the_same_first_loss(tmp_path, capsys):
    out = tmp_path / "gpu.json"
    result = gpu.main(["--device", "cpu", "--tiny", "--only", "mlp,transformer", "--runs", "2",
                       "--warmup", "1", "--steps", "1", "--json", str(out)])
    assert json.loads(out.read_text())["results"][0]["workload"] == "mlp"
    for row in result["results"]:
        first = row["first_loss"]
        assert abs(first["axonic"] - first["torch"]) < 1e-5, row
        assert len(row["axonic"]["seconds_per_step"]) == 2 and row["ratio"] > 0
    table = capsys.readouterr().out
    assert "| mlp |" in table and "| transformer |" in table and "device cpu" in table


def test_gpu_bench_builds_every_workload_tiny_for_axonic():
    result = gpu.run(list(gpu.WORKLOADS), "cpu", tiny=True, runs=1, warmup=0, per_run=1,
                     frameworks=("axonic",))
    assert [r["workload"] for r in result["results"]] == list(gpu.WORKLOADS)
    assert all(r["axonic"]["median_s"] > 0 for r in result["results"])


def test_gpu_sizes_are_gpu_sized():
    for name in gpu.WORKLOADS:
        w = gpu.gpu_workload(name)
        assert 256 <= w.samples <= 1024, name
        widths = [v for v in w.sizes.values() if isinstance(v, int)]
        widths += [v for v in w.sizes.get("sizes", ()) if isinstance(v, int)]
        assert max(widths) >= 1024, name


def test_an_unknown_workload_is_named(capsys):
    import pytest

    with pytest.raises(SystemExit):
        gpu.main(["--device", "cpu", "--only", "resnet"])
    assert "--only: unknown workload(s) ['resnet']; expected some of ['mlp'" in (
        capsys.readouterr().err)
