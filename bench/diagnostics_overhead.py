"""Benchmark: the cost of the ``Diagnostics`` callback (every_n_steps=10) on a training
step, for the digits CNN of ``examples/configs/cnn_digits.toml`` and a 64-256-256-10 MLP.
One timed call is one epoch of 20 batches of 32 through ``Trainer.fit`` (so the callback's
start-of-training work is counted too); with and without the callback alternate.

    python bench/diagnostics_overhead.py [--quick] [--threads 1]

Measured (2 shared cores, median of 9 alternating runs), per step:
see docs/INSIGHT.md, "What the diagnostics cost".
"""

import sys
from pathlib import Path

if __package__ in (None, ""):  # run as a script: make ``bench`` importable
    sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

import numpy as np

from bench.common import all_cores, median, time_alternating

BATCHES, BATCH = 20, 32


def _models(nn):
    cnn = nn.Sequential(nn.Conv2d(1, 16, 3, padding=1), nn.ReLU(),
                        nn.Conv2d(16, 32, 3, padding=1), nn.ReLU(), nn.MaxPool2d(2),
                        nn.Flatten(), nn.Linear(512, 64), nn.ReLU(), nn.Linear(64, 10))
    mlp = nn.Sequential(nn.Linear(64, 256), nn.ReLU(), nn.Linear(256, 256), nn.ReLU(),
                        nn.Linear(256, 10))
    return {"cnn": (cnn, (1, 8, 8)), "mlp": (mlp, (64,))}


def _epoch(model, shape, callbacks):
    from axonic import nn, optim
    from axonic.train import Trainer

    rng = np.random.default_rng(0)
    X = rng.random((BATCHES * BATCH, *shape), dtype=np.float32)
    y = rng.integers(0, 10, BATCHES * BATCH)
    trainer = Trainer(model, optim.Adam(model.parameters(), lr=1e-3), nn.CrossEntropyLoss(),
                      callbacks=callbacks, seed=0)

    def run():
        trainer.fit((X, y), epochs=1, batch_size=BATCH, verbose=0)
    return run


ENTRY_POINTS = ("on_train_begin", "on_epoch_begin", "on_batch_begin", "on_batch_end",
                "on_epoch_end", "on_train_end", "hook", "_output_hook")


def profiled_share(fn) -> float:
    """The share of ``fn``'s time spent inside the callback and its hooks (cProfile's
    cumulative time of their entry points, which never call each other): a measure the
    load of a shared machine does not blur."""
    import cProfile
    import pstats

    prof = cProfile.Profile()
    prof.runcall(fn)
    stats = pstats.Stats(prof).stats
    total = max(v[3] for v in stats.values())
    inside = sum(v[3] for (path, _, func), v in stats.items()
                 if "diagnostics" in path and func in ENTRY_POINTS)
    return inside / total


def run(threads: int, quick: bool, profile: bool) -> dict:
    import axonic
    from axonic import nn
    from axonic.train.diagnostics import Diagnostics

    axonic.manual_seed(0)
    result = {"workload": "diagnostics overhead", "threads": threads, "cases": {}}
    for name, (model, shape) in _models(nn).items():
        cases = {"plain": _epoch(model, shape, []),
                 "diagnostics": _epoch(model, shape, [Diagnostics(verbose=False)])}
        wall, usage, _ = time_alternating(cases, runs=3 if quick else 9, warmup=1, steps=1)
        plain, diag = (median(wall[k]) / BATCHES for k in ("plain", "diagnostics"))
        cpu_plain, cpu_diag = (median(usage[k]["cpu"]) / BATCHES for k in ("plain",
                                                                            "diagnostics"))
        share = median([profiled_share(cases["diagnostics"]) for _ in range(3)])
        result["cases"][name] = {
            "profiled_share_pct": 100 * share,
            "step_ms_plain": 1e3 * plain, "step_ms_diagnostics": 1e3 * diag,
            "overhead_wall_pct": 100 * (diag / plain - 1),
            "overhead_cpu_pct": 100 * (cpu_diag / cpu_plain - 1)}
    return result


def _format(result: dict) -> str:
    lines = [f"diagnostics overhead ({result['threads']} cores, shared), per training step:"]
    for name, c in result["cases"].items():
        lines.append(f"  {name}: {c['step_ms_plain']:.2f} ms plain, "
                     f"{c['step_ms_diagnostics']:.2f} ms with Diagnostics -> "
                     f"{c['overhead_wall_pct']:+.1f}% wall, {c['overhead_cpu_pct']:+.1f}% CPU; "
                     f"{c['profiled_share_pct']:.2f}% of the profiled time is the callback's")
    return "\n".join(lines)


if __name__ == "__main__":
    import json

    argv = sys.argv[1:]
    as_json = "--json" in argv
    quick = "--quick" in argv
    out = run(threads=all_cores(), quick=quick, profile=False)
    print(json.dumps(out) if as_json else _format(out))
