"""Benchmark: ONNX export, axonic.onnx.export against torch.onnx.export (TorchScript) on
the same weights: export time, nodes, file size, and onnxruntime latency of each file at
batch 32 (one intra-op thread, the two sessions alternating); and the size of the
op-level mapping design (how many ops carry a mapping, in how many lines, against the
module classes a per-layer design would need for the same models).

    python bench/onnx_export.py            # --runs 7, --quick, --json

>>> sorted(MODELS)
['cnn', 'lstm', 'mlp', 'transformer']
"""

import argparse
import inspect
import io
import json
import sys
import time
from pathlib import Path

import numpy as np

if __package__ in (None, ""):  # run as a script: make ``bench`` importable
    sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from bench.common import copy_weights, median, time_alternating


def _mlp(nn):
    return nn.Sequential(nn.Linear(64, 256), nn.ReLU(), nn.Linear(256, 256), nn.ReLU(),
                         nn.Linear(256, 10)), (64,)


def _cnn(nn):
    return nn.Sequential(nn.Conv2d(1, 16, 3, padding=1), nn.BatchNorm2d(16), nn.ReLU(),
                         nn.MaxPool2d(2), nn.Conv2d(16, 32, 3, padding=1), nn.BatchNorm2d(32),
                         nn.ReLU(), nn.MaxPool2d(2), nn.Flatten(), nn.Linear(32 * 7 * 7, 10)), \
        (1, 28, 28)


def _lstm(nn):
    class Classifier(nn.Module):
        def __init__(self):
            super().__init__()
            self.lstm = nn.LSTM(32, 64, num_layers=2, batch_first=True)
            self.head = nn.Linear(64, 5)

        def forward(self, x):
            return self.head(self.lstm(x)[0])

    return Classifier(), (20, 32)


def _transformer(nn):
    layer = nn.TransformerEncoderLayer(64, 4, 128, dropout=0.0, batch_first=True)
    return nn.TransformerEncoder(layer, 2, enable_nested_tensor=False), (16, 64)


MODELS = {"mlp": _mlp, "cnn": _cnn, "lstm": _lstm, "transformer": _transformer}


def export_both(name: str):
    """Both frameworks' models (same weights), an example input, and an export function
    per framework returning the file's bytes."""
    import torch

    import axonic

    tmodel, shape = MODELS[name](torch.nn)
    amodel, _ = MODELS[name](axonic.nn)
    copy_weights(tmodel, amodel)
    tmodel.eval()
    amodel.eval()
    x = np.random.default_rng(0).standard_normal((2, *shape)).astype(np.float32)
    axes = {"x": {0: "batch"}, "y": {0: "batch"}}

    def ours():
        buf = io.BytesIO()
        axonic.onnx.export(amodel, axonic.tensor(x), buf, input_names=["x"],
                           output_names=["y"], dynamic_axes=axes)
        return buf.getvalue()

    def theirs():
        buf = io.BytesIO()
        torch.onnx.export(tmodel, (torch.from_numpy(x),), buf, dynamo=False,
                          input_names=["x"], output_names=["y"], dynamic_axes=axes)
        return buf.getvalue()

    return shape, {"axonic": ours, "torch": theirs}


def measure(name: str, runs: int) -> dict:
    import onnx
    import onnxruntime as ort

    shape, exporters = export_both(name)
    files = {fw: fn() for fw, fn in exporters.items()}
    wall, _, _ = time_alternating(exporters, runs=runs, warmup=1, steps=1)
    opts = ort.SessionOptions()
    opts.intra_op_num_threads = opts.inter_op_num_threads = 1
    sessions = {fw: ort.InferenceSession(data, opts, providers=["CPUExecutionProvider"])
                for fw, data in files.items()}
    # onnxruntime's SkipLayerNormalization fusion, measured slower here (docs/DEPLOY.md)
    sessions["axonic, no SLN fusion"] = ort.InferenceSession(
        files["axonic"], opts, providers=["CPUExecutionProvider"],
        disabled_optimizers=["SkipLayerNormFusion"])
    batch = np.random.default_rng(1).standard_normal((32, *shape)).astype(np.float32)
    outs = {fw: s.run(None, {"x": batch})[0] for fw, s in sessions.items()}
    infer = {fw: (lambda s=s: s.run(None, {"x": batch})) for fw, s in sessions.items()}
    latency, _, _ = time_alternating(infer, runs=runs, warmup=3)
    row = {"max_abs_diff": float(np.abs(outs["axonic"] - outs["torch"]).max()),
           "ort_ms_axonic_no_sln": 1e3 * median(latency["axonic, no SLN fusion"])}
    for fw, data in files.items():
        row[fw] = {"export_s": median(wall[fw]), "nodes": len(onnx.load_from_string(data)
                                                             .graph.node),
                   "bytes": len(data), "ort_ms": 1e3 * median(latency[fw])}
    return row


def design_numbers() -> dict:
    """How the op-level mapping is spread: Functions with a mapping and its lines."""
    import axonic.ops  # noqa: F401  (registers every op)
    from axonic.autograd.function import Function

    def subclasses(cls):
        for sub in cls.__subclasses__():
            yield sub
            yield from subclasses(sub)

    mapped, lines = set(), 0
    for cls in set(subclasses(Function)):
        if not cls.__module__.startswith("axonic.ops"):
            continue
        if "to_onnx" in cls.__dict__:
            mapped.add(cls.__name__)
            lines += len(inspect.getsource(cls.__dict__["to_onnx"]).splitlines())
        elif "onnx_op" in cls.__dict__:
            mapped.add(cls.__name__)
            lines += 1
    return {"functions_mapped": len(mapped), "mapping_lines": lines}


def main(argv=None) -> dict:
    p = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    p.add_argument("--runs", type=int, default=7)
    p.add_argument("--quick", action="store_true", help="3 runs")
    p.add_argument("--json", action="store_true")
    args = p.parse_args(argv)
    runs = 3 if args.quick else args.runs
    t0 = time.perf_counter()
    result = {name: measure(name, runs) for name in MODELS}
    result["design"] = design_numbers()
    if args.json:
        print(json.dumps(result, indent=1))
        return result
    print("| model | exporter | export s | nodes | KiB | ORT ms (batch 32) | max abs diff |")
    print("|---|---|---|---|---|---|---|")
    for name in MODELS:
        r = result[name]
        for fw in ("axonic", "torch"):
            m = r[fw]
            extra = f" ({r['ort_ms_axonic_no_sln']:.3f} without SLN fusion)" \
                if fw == "axonic" else ""
            print(f"| {name} | {fw} | {m['export_s']:.3f} | {m['nodes']} | "
                  f"{m['bytes'] / 1024:.0f} | {m['ort_ms']:.3f}{extra} | "
                  f"{r['max_abs_diff']:.1e} |")
    print(f"\nop mappings: {result['design']}; {runs} alternating runs, medians "
          f"({time.perf_counter() - t0:.0f} s)")
    return result


if __name__ == "__main__":
    main()
