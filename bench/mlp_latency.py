"""Benchmark: inference latency of the MLP 784-512-256-10 at batch 1 (eval mode, no_grad),
axonic against PyTorch on the same weights and input; the median per-call latency.

    python bench/mlp_latency.py --threads 1      # or --threads 2, --quick, --profile, --json

>>> from bench.mlp_latency import infer_call
>>> callable(infer_call)
True
"""

import gc
import sys
import time
from pathlib import Path

import numpy as np

if __package__ in (None, ""):  # run as a script: make ``bench`` importable
    sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from bench import mlp
from bench.common import (
    FRAMEWORKS,
    Workload,
    cli,
    load_framework,
    median,
    pin_threads,
    profile_calls,
    to_tensor,
)

WORKLOAD = Workload("MLP 784-512-256-10 inference, batch 1", mlp.build, mlp.batch, samples=1)


def infer_call(fw, model, x):
    """One forward pass without autograd, as a closure returning the output."""
    model.eval()

    def call():
        with fw.no_grad():
            return model(x)

    call.model = model
    return call


def calls(workload=WORKLOAD, frameworks=FRAMEWORKS) -> dict:
    """An inference closure per framework, on the same weights and input."""
    models = workload.models(frameworks)
    (x,), _ = workload.data()
    return {name: infer_call(sys.modules[name], model, to_tensor(sys.modules[name], x))
            for name, model in models.items()}


def numpy_call(model, x: np.ndarray):
    """The same forward pass in bare NumPy on the model's weights: the floor any NumPy
    framework can reach (three GEMVs, two ReLUs, no Python layers)."""
    layers = [(m.weight.detach().numpy(), m.bias.detach().numpy())
              for m in model.modules() if hasattr(m, "weight")]

    def call():
        h = x
        for i, (w, b) in enumerate(layers):
            h = h @ w.T
            h += b
            if i < len(layers) - 1:
                np.maximum(h, 0, out=h)
        return h

    return call


def time_each_call(cases: dict, *, runs: int, warmup: int, per_run: int) -> tuple[dict, dict]:
    """Wall seconds of every single call (``per_run`` calls per run, frameworks alternating),
    and the CPU seconds per call of each run."""
    names = list(cases)
    for name in names:
        for _ in range(warmup):
            cases[name]()
    wall = {name: [] for name in names}
    cpu = {name: [] for name in names}
    clock = time.perf_counter
    for r in range(runs):
        for name in (names if r % 2 == 0 else names[::-1]):
            fn, times = cases[name], wall[name]
            gc.collect()
            c0 = time.process_time()
            for _ in range(per_run):
                t0 = clock()
                fn()
                times.append(clock() - t0)
            cpu[name].append((time.process_time() - c0) / per_run)
    return wall, cpu


def run(threads, quick, profile):
    for name in FRAMEWORKS:
        load_framework(name, threads)
    pin_threads(threads)
    cases = calls()
    outs = {name: fn() for name, fn in cases.items()}
    diff = float(np.max(np.abs(outs["axonic"].numpy() - outs["torch"].numpy())))
    (x,), _ = WORKLOAD.data()
    floor = {"numpy": numpy_call(cases["axonic"].model, x)}
    runs, per_run = (3, 200) if quick else (7, 2000)
    times, cpu = time_each_call({**cases, **floor}, runs=runs, warmup=100, per_run=per_run)
    result = {"workload": WORKLOAD.name, "kind": "latency", "threads": threads,
              "runs": runs, "calls_per_run": per_run, "max_abs_output_diff": diff,
              "numpy_floor_s": median(times.pop("numpy"))}
    cpu.pop("numpy")
    for name, ts in times.items():
        lat = median(ts)
        q1, q3 = np.percentile(ts, [25, 75])
        result[name] = {"median_latency_s": lat, "samples_per_s": 1.0 / lat,
                        "quartiles_s": [float(q1), float(q3)],
                        "cpu_median_s": median(cpu[name]),
                        "display": f"{lat * 1e6:.1f} us/call (IQR {q1 * 1e6:.0f}-{q3 * 1e6:.0f})"}
    result["ratio"] = result["axonic"]["samples_per_s"] / result["torch"]["samples_per_s"]
    result["cpu_ratio"] = result["torch"]["cpu_median_s"] / result["axonic"]["cpu_median_s"]
    if profile:
        result["profile"] = profile_calls(cases["axonic"], 2000 if quick else 20000)
    return result


if __name__ == "__main__":
    cli(run, __doc__.splitlines()[0])
