"""Benchmark: training steps on the GPU, axonic on CuPy against PyTorch CUDA eager.

The MLP, CNN, char-LSTM and Transformer of the CPU benchmarks (the same ``build`` functions)
at GPU sizes: batch 256-1024, widths of 1024 and more. Both frameworks start from the same
weights (PyTorch's, copied) and train on the same batch with Adam; the steps alternate
between the frameworks, the device is synchronised around every timed run, and the result
is the median seconds per step and the ratio (axonic's samples/s over PyTorch's; 1.0 is
parity). The device, driver and versions are printed with the numbers.

    python bench/gpu.py                          # all workloads on cuda
    python bench/gpu.py --device cpu --tiny      # the same code at toy sizes on the CPU
    python bench/gpu.py --json out.json --only mlp,cnn

>>> from bench.gpu import WORKLOADS
>>> sorted(WORKLOADS)
['char_lstm', 'cnn', 'mlp', 'transformer']
"""

from __future__ import annotations

import argparse
import dataclasses
import json
import platform
import sys
import time
from pathlib import Path

if __package__ in (None, ""):  # run as a script: make ``bench`` importable
    sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from bench import char_lstm, cnn, mlp, transformer
from bench.common import Workload, copy_weights, median, spread

# GPU sizes: (workload, sizes, batch)
WORKLOADS = {
    "mlp": (mlp.WORKLOAD, {"sizes": (1024, 4096, 4096, 1024, 10)}, 1024),
    "cnn": (cnn.WORKLOAD, {"side": 32, "channels": (3, 64, 128), "hidden": 1024,
                           "classes": 10}, 256),
    "char_lstm": (char_lstm.WORKLOAD, {"vocab": 65, "embed": 128, "hidden": 1024, "seq": 64},
                  256),
    "transformer": (transformer.WORKLOAD, {"vocab": 512, "d": 1024, "heads": 16, "ff": 4096,
                                           "layers": 2, "seq": 128}, 256),
}
TINY = {
    "mlp": {"sizes": (8, 6, 4, 3)},
    "cnn": {"side": 8, "channels": (1, 2, 3), "hidden": 5, "classes": 3},
    "char_lstm": {"vocab": 7, "embed": 4, "hidden": 5, "seq": 6},
    "transformer": {"vocab": 7, "d": 8, "heads": 2, "ff": 16, "layers": 1, "seq": 5},
}


def gpu_workload(name: str, tiny: bool = False) -> Workload:
    """The named workload at GPU sizes (or, with ``tiny``, at toy sizes and batch 4)."""
    base, sizes, samples = WORKLOADS[name]
    if tiny:
        sizes, samples = TINY[name], 4
    label = " ".join(f"{k}={v}" for k, v in sizes.items()).replace(" ", "")
    return dataclasses.replace(base, name=f"{label}; batch {samples}", sizes=sizes,
                               samples=samples)


def _sync(fw_name: str, device: str):
    """A function that waits for the device's queued work (nothing on the CPU)."""
    if device == "cpu":
        return lambda: None
    if fw_name == "torch":
        import torch

        return torch.cuda.synchronize
    import axonic

    return axonic.cuda.synchronize


def train_steps(workload: Workload, device: str, frameworks=("axonic", "torch")) -> dict:
    """A training-step closure per framework on ``device``: same weights, same batch."""
    import importlib

    fws = {name: importlib.import_module(name) for name in frameworks}
    models = {}
    for name, fw in fws.items():
        fw.manual_seed(0)
        models[name] = workload.build(fw, fw.nn, **workload.sizes)
    if "torch" in models and "axonic" in models:
        copy_weights(models["torch"], models["axonic"])
    inputs, target = workload.data()
    steps = {}
    for name, fw in fws.items():
        model = models[name].to(device)
        xs = [fw.tensor(a).to(device) for a in inputs]
        y = fw.tensor(target).to(device)
        loss_fn = fw.nn.CrossEntropyLoss()
        opt = importlib.import_module(name + ".optim").Adam(model.parameters(), lr=1e-4)

        def step(model=model, xs=xs, y=y, loss_fn=loss_fn, opt=opt):
            opt.zero_grad()
            loss = loss_fn(model(*xs), y)
            loss.backward()
            opt.step()
            return loss

        steps[name] = step
    return steps


def time_steps(steps: dict, device: str, runs: int, warmup: int, per_run: int) -> dict:
    """Seconds per step of each framework, one entry per run, the frameworks alternating."""
    syncs = {name: _sync(name, device) for name in steps}
    for name, step in steps.items():
        for _ in range(warmup):
            step()
        syncs[name]()
    times = {name: [] for name in steps}
    names = list(steps)
    for r in range(runs):
        for name in (names if r % 2 == 0 else names[::-1]):
            step, sync = steps[name], syncs[name]
            sync()
            t0 = time.perf_counter()
            for _ in range(per_run):
                step()
            sync()
            times[name].append((time.perf_counter() - t0) / per_run)
    return times


def environment(device: str) -> dict:
    """Device, driver and library versions, as printed with the results."""
    import numpy as np

    import axonic

    env = {"python": platform.python_version(), "numpy": np.__version__,
           "axonic": axonic.__version__, "device": device}
    try:
        import torch

        env["torch"] = torch.__version__
        env["torch_cuda"] = torch.version.cuda
    except ImportError:  # pragma: no cover
        env["torch"] = None
    if device != "cpu":
        import cupy

        env["cupy"] = cupy.__version__
        env["gpu"] = axonic.cuda.get_device_name()
        env["driver"] = cupy.cuda.runtime.driverGetVersion()
        env["cuda_runtime"] = cupy.cuda.runtime.runtimeGetVersion()
    else:
        env["cpu"] = platform.processor() or platform.machine()
    return env


def run(names, device: str, tiny: bool, runs: int, warmup: int, per_run: int,
        frameworks=("axonic", "torch")) -> dict:
    """Time every named workload; a JSON-able result with the environment."""
    results = []
    for name in names:
        workload = gpu_workload(name, tiny)
        steps = train_steps(workload, device, frameworks)
        first = {fw: float(step().item()) for fw, step in steps.items()}
        times = time_steps(steps, device, runs, warmup, per_run)
        row = {"workload": name, "sizes": workload.name, "samples": workload.samples,
               "first_loss": first}
        for fw, ts in times.items():
            row[fw] = {"median_s": median(ts), "spread": spread(ts),
                       "samples_per_s": workload.samples / median(ts), "seconds_per_step": ts}
        if "torch" in row and "axonic" in row:
            row["ratio"] = row["axonic"]["samples_per_s"] / row["torch"]["samples_per_s"]
        results.append(row)
        del steps
    return {"environment": environment(device), "runs": runs, "steps_per_run": per_run,
            "results": results}


def _ms(timing) -> str:
    return "-" if not timing else f"{timing['median_s'] * 1e3:.2f}"


def markdown(result: dict) -> str:
    """The results as a Markdown table with the environment above it."""
    env = result["environment"]
    lines = ["Environment: " + ", ".join(f"{k} {v}" for k, v in env.items()), "",
             "| workload | sizes | axonic ms/step | PyTorch ms/step | ratio |",
             "|---|---|---:|---:|---:|"]
    for row in result["results"]:
        ax, pt = (_ms(row.get(fw)) for fw in ("axonic", "torch"))
        ratio = f"{row['ratio']:.2f}x" if "ratio" in row else "-"
        lines.append(f"| {row['workload']} | {row['sizes']} | {ax} | {pt} | {ratio} |")
    return "\n".join(lines)


def main(argv=None) -> dict:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--device", default="cuda", help="'cuda' (default) or 'cpu'")
    parser.add_argument("--tiny", action="store_true", help="toy sizes (a smoke run)")
    parser.add_argument("--only", default=",".join(WORKLOADS),
                        help="comma-separated workloads (default: all)")
    parser.add_argument("--runs", type=int, default=7)
    parser.add_argument("--warmup", type=int, default=3)
    parser.add_argument("--steps", type=int, default=10, help="steps per timed run")
    parser.add_argument("--axonic-only", action="store_true", help="do not run PyTorch")
    parser.add_argument("--json", help="also write the result to this file")
    args = parser.parse_args(argv)
    names = [n for n in args.only.split(",") if n]
    unknown = [n for n in names if n not in WORKLOADS]
    if unknown:
        parser.error(f"--only: unknown workload(s) {unknown}; expected some of {list(WORKLOADS)}")
    frameworks = ("axonic",) if args.axonic_only else ("axonic", "torch")
    result = run(names, args.device, args.tiny, args.runs, args.warmup, args.steps, frameworks)
    print(markdown(result))
    if args.json:
        Path(args.json).write_text(json.dumps(result, indent=1))
    return result


if __name__ == "__main__":
    main()
