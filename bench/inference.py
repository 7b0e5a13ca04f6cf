"""Benchmark: inference latency at batch 1 and 32, axonic against PyTorch and onnxruntime.

The models (an MLP 784-512-256-10, the 8x8 digits CNN, a one-layer LSTM classifier over
32 steps, a two-layer Transformer encoder d128) are built in PyTorch, their weights copied
into the same axonic model, and the PyTorch model exported to ONNX
(``torch.onnx.export``, opset 17, a dynamic batch axis) for onnxruntime with one intra-op
thread. ``axonic compiled`` is the same axonic model through ``axonic.compile`` (its
plan recorded before timing; its output checked equal to eager bit for bit). Each run
times ``calls`` forward passes of one framework; the frameworks alternate run by run; the
medians per call and the speed ratios are printed (ratio > 1: axonic faster). ``--cpu``
times process CPU time instead of wall time (steadier on a shared machine).

    python bench/inference.py --threads 1 [--quick] [--cpu] [--json out.json] [--doc]
    python bench/inference.py --layout     # Linear's weight layout, (out, in) vs (in, out)

``--doc`` rewrites the marked inference section of docs/BENCHMARKS.md.

>>> sorted(MODELS)
['cnn', 'lstm', 'mlp', 'transformer']
"""

from __future__ import annotations

import argparse
import io
import json
import os
import platform
import sys
import time
from pathlib import Path

import numpy as np

if __package__ in (None, ""):  # run as a script: make ``bench`` importable
    sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from bench.common import ROOT, copy_weights, median, pin_threads, replace_section

DOC = ROOT / "docs" / "BENCHMARKS.md"
START, END = "<!-- bench:inference:start -->", "<!-- bench:inference:end -->"
# targets of the speed round: axonic/PyTorch >= 2; axonic within 3x (batch 1) and 2x
# (batch 32) of onnxruntime
TARGET_TORCH, TARGET_ORT = 2.0, {1: 1 / 3, 32: 1 / 2}


def _mlp(fw):
    nn = fw.nn
    return nn.Sequential(nn.Linear(784, 512), nn.ReLU(), nn.Linear(512, 256), nn.ReLU(),
                         nn.Linear(256, 10)), (784,)


def _cnn(fw):
    nn = fw.nn
    return nn.Sequential(nn.Conv2d(1, 16, 3, padding=1), nn.ReLU(), nn.MaxPool2d(2),
                         nn.Conv2d(16, 32, 3, padding=1), nn.ReLU(), nn.MaxPool2d(2),
                         nn.Flatten(), nn.Linear(32 * 2 * 2, 10)), (1, 8, 8)


def _lstm(fw):
    nn = fw.nn

    class LSTMClassifier(nn.Module):
        def __init__(self):
            super().__init__()
            self.lstm = nn.LSTM(28, 128, batch_first=True)
            self.head = nn.Linear(128, 10)

        def forward(self, x):
            out, _ = self.lstm(x)
            return self.head(out[:, -1])

    return LSTMClassifier(), (32, 28)


def _transformer(fw):
    nn = fw.nn

    class Encoder(nn.Module):
        def __init__(self):
            super().__init__()
            layer = nn.TransformerEncoderLayer(128, 4, 256, dropout=0.0, batch_first=True)
            self.encoder = nn.TransformerEncoder(layer, 2, enable_nested_tensor=False) \
                if fw.__name__ == "torch" else nn.TransformerEncoder(layer, 2)
            self.head = nn.Linear(128, 10)

        def forward(self, x):
            return self.head(self.encoder(x).mean(1))

    return Encoder(), (32, 128)


MODELS = {"mlp": _mlp, "cnn": _cnn, "lstm": _lstm, "transformer": _transformer}


def build(name: str):
    """``(torch model, axonic model, input shape)`` on the same weights, in eval mode."""
    import torch

    import axonic

    torch.manual_seed(0)
    tm, shape = MODELS[name](torch)
    am, _ = MODELS[name](axonic)
    copy_weights(tm, am)
    return tm.eval(), am.eval(), shape


def onnx_session(torch_model, shape, threads: int):
    import onnxruntime as ort
    import torch

    buf = io.BytesIO()
    torch.onnx.export(torch_model, (torch.zeros(1, *shape),), buf, input_names=["x"],
                      output_names=["y"], dynamic_axes={"x": {0: "batch"}, "y": {0: "batch"}},
                      opset_version=17, dynamo=False)
    opts = ort.SessionOptions()
    opts.intra_op_num_threads = threads
    opts.inter_op_num_threads = 1
    return ort.InferenceSession(buf.getvalue(), opts, providers=["CPUExecutionProvider"])


def calls_for(name: str, batch: int, threads: int) -> tuple[dict, dict]:
    """A zero-argument forward per framework and their outputs (checked to agree)."""
    import torch

    import axonic

    tm, am, shape = build(name)
    x = np.random.default_rng(0).standard_normal((batch, *shape)).astype(np.float32)
    tx, ax = torch.from_numpy(x.copy()), axonic.tensor(x.copy())
    sess = onnx_session(tm, shape, threads)
    compiled = axonic.compile(am, fullgraph=True)

    def run_torch():
        with torch.inference_mode():
            return tm(tx)

    def run_axonic():
        with axonic.no_grad():
            return am(ax)

    def run_compiled():
        with axonic.no_grad():
            return compiled(ax)

    def run_ort():
        return sess.run(None, {"x": x})[0]

    cases = {"axonic": run_axonic, "compiled": run_compiled, "torch": run_torch,
             "onnxruntime": run_ort}
    outs = {name: fn() for name, fn in cases.items()}
    outs = {name: out if isinstance(out, np.ndarray) else out.numpy()
            for name, out in outs.items()}
    replayed = run_compiled().numpy()  # the first call recorded the plan, this one replays it
    if not np.array_equal(replayed, outs["axonic"]):
        raise AssertionError(f"{name} batch {batch}: axonic.compile differs from eager")
    return cases, outs


def time_cases(cases: dict, runs: int, calls: int, warmup: int,
               clock=time.perf_counter) -> dict:
    """Median seconds per call of each case; the cases alternate run by run."""
    for fn in cases.values():
        for _ in range(warmup):
            fn()
    times = {name: [] for name in cases}
    for _ in range(runs):
        for name, fn in cases.items():
            t0 = clock()
            for _ in range(calls):
                fn()
            times[name].append((clock() - t0) / calls)
    return {name: median(v) for name, v in times.items()}


def run(threads: int, quick: bool, cpu: bool = False, models=None) -> list[dict]:
    pin_threads(threads)
    import torch

    torch.set_num_threads(threads)
    rows = []
    clock = time.process_time if cpu else time.perf_counter
    for name in models or MODELS:
        for batch in (1, 32):
            cases, outs = calls_for(name, batch, threads)
            err = max(float(np.abs(outs["axonic"] - outs[k]).max()) for k in outs)
            heavy = 4 if name in ("lstm", "transformer") else 1
            calls = 5 if quick else max(5, 2000 // (batch * heavy))
            t = time_cases(cases, runs=3 if quick else 9, calls=calls, warmup=2 if quick else 20,
                           clock=clock)
            rows.append({"model": name, "batch": batch, "threads": threads, "max_abs_diff": err,
                         **{f"{k}_us": v * 1e6 for k, v in t.items()},
                         "vs_torch": t["torch"] / t["axonic"],
                         "vs_onnxruntime": t["onnxruntime"] / t["axonic"],
                         "compiled_vs_eager": t["axonic"] / t["compiled"],
                         "compiled_vs_torch": t["torch"] / t["compiled"],
                         "compiled_vs_onnxruntime": t["onnxruntime"] / t["compiled"]})
    return rows


def linear_layout(batches=(1, 32), shapes=((784, 512), (512, 256)), runs=9, calls=200):
    """``x @ W.T`` with PyTorch's (out, in) weight, as ``Linear`` computes it, against
    ``x @ Wt`` with a contiguous (in, out) copy: median CPU microseconds per call and
    whether the two results are equal bit for bit."""
    rng = np.random.default_rng(0)
    rows = []
    for batch in batches:
        for n_in, n_out in shapes:
            x = rng.standard_normal((batch, n_in), dtype=np.float32)
            w = rng.standard_normal((n_out, n_in), dtype=np.float32)
            wt = np.ascontiguousarray(w.T)
            cases = {"out_in": lambda x=x, w=w: x @ w.T, "in_out": lambda x=x, wt=wt: x @ wt}
            t = time_cases(cases, runs, calls, warmup=20, clock=time.process_time)
            rows.append({"batch": batch, "in": n_in, "out": n_out,
                         "out_in_us": t["out_in"] * 1e6, "in_out_us": t["in_out"] * 1e6,
                         "bit_equal": bool(np.array_equal(x @ w.T, x @ wt))})
    return rows


def table(rows: list[dict]) -> str:
    lines = ["| model | batch | threads | axonic us | axonic compiled us | PyTorch us | "
             "onnxruntime us | axonic/PyTorch | axonic/onnxruntime | compiled/eager | "
             "compiled/PyTorch | compiled/onnxruntime | targets, compiled (>= 2, >= 1/3 at "
             "batch 1, >= 1/2 at 32) |", "|---" * 13 + "|"]
    for r in rows:
        ok = (r["compiled_vs_torch"] >= TARGET_TORCH,
              r["compiled_vs_onnxruntime"] >= TARGET_ORT[r["batch"]])
        verdict = ", ".join(("met" if o else "missed") for o in ok)
        lines.append(f"| {r['model']} | {r['batch']} | {r['threads']} | {r['axonic_us']:.0f} | "
                     f"{r['compiled_us']:.0f} | {r['torch_us']:.0f} | "
                     f"{r['onnxruntime_us']:.0f} | {r['vs_torch']:.2f}x | "
                     f"{r['vs_onnxruntime']:.2f}x | {r['compiled_vs_eager']:.2f}x | "
                     f"{r['compiled_vs_torch']:.2f}x | {r['compiled_vs_onnxruntime']:.2f}x | "
                     f"{verdict} |")
    return "\n".join(lines)


def main(argv=None):
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--threads", type=int, default=1)
    ap.add_argument("--quick", action="store_true", help="a smoke run (numbers too noisy)")
    ap.add_argument("--cpu", action="store_true", help="time process CPU time, not wall time")
    ap.add_argument("--models", nargs="*", choices=sorted(MODELS), help="a subset of the models")
    ap.add_argument("--json", type=Path)
    ap.add_argument("--doc", action="store_true", help="rewrite the section in BENCHMARKS.md")
    ap.add_argument("--layout", action="store_true", help="time Linear's weight layouts only")
    args = ap.parse_args(argv)
    if args.layout:
        pin_threads(args.threads)
        rows = linear_layout()
        for r in rows:
            print(f"batch {r['batch']:3d} {r['in']}->{r['out']}: x @ W.T {r['out_in_us']:.0f} us, "
                  f"x @ Wt (in, out) {r['in_out_us']:.0f} us, "
                  f"{r['out_in_us'] / r['in_out_us']:.2f}x, equal bits: {r['bit_equal']}")
        return rows
    rows = run(args.threads, args.quick, args.cpu, args.models)
    text = table(rows)
    print(text)
    if args.json:
        args.json.write_text(json.dumps(rows, indent=2))
    if args.doc:
        import onnxruntime
        import torch

        import axonic
        from axonic.backend import blas, jit

        head = (f"{platform.processor() or platform.machine()}, {os.cpu_count()} cores, load "
                f"{os.getloadavg()[0]:.1f}; axonic {axonic.__version__}, PyTorch "
                f"{torch.__version__}, onnxruntime {onnxruntime.__version__}, NumPy "
                f"{np.__version__}; axonic's matrix products: {blas.describe()}; fused "
                f"kernels: {jit.describe()}\n\n")
        DOC.write_text(replace_section(DOC.read_text(), START, END, head + text))
    return rows


if __name__ == "__main__":
    main()
