from bench import dataloader as bench


def test_loader_benchmark_runs_at_tiny_size():
    times = bench.measure(n=300, features=8, batch_size=32, repeats=1)
    assert {"axonic batched (get_batch)", "axonic per-sample (collate)"} <= set(times)
    assert all(t > 0 for t in times.values())
