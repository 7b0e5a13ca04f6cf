"""The model-zoo networks that ship (weights stripped) inside the onnx wheel, run with
random weights in axonic and in onnxruntime: AlexNet, DenseNet-121, Inception v1 and v2,
ResNet-50, ShuffleNet, SqueezeNet, VGG-19 and ZFNet-512 (opset 9)."""

from __future__ import annotations

import pathlib

import numpy as np
import pytest

from axonic.onnx.load_model import load

onnx = pytest.importorskip("onnx")
ort = pytest.importorskip("onnxruntime")
from onnx import numpy_helper  # noqa: E402

LIGHT = pathlib.Path(onnx.__file__).parent / "backend" / "test" / "data" / "light"
NETWORKS = ["bvlc_alexnet", "densenet121", "inception_v1", "inception_v2", "resnet50",
            "shufflenet", "squeezenet", "vgg19", "zfnet512"]


def with_random_weights(path, seed=0):
    """The model with each ConstantOfShape placeholder weight replaced by a random
    initializer: He-scaled normals for kernels, U(0.5, 1.5) for vectors (BN variances stay
    positive)."""
    model = onnx.load(path)
    rng = np.random.default_rng(seed)
    shapes = {i.name: numpy_helper.to_array(i) for i in model.graph.initializer}
    kept = []
    for node in model.graph.node:
        if node.op_type == "ConstantOfShape" and node.input[0] in shapes:
            shape = tuple(int(s) for s in shapes[node.input[0]])
            if len(shape) == 1:
                w = rng.uniform(0.5, 1.5, shape)
            else:
                w = rng.standard_normal(shape) * np.sqrt(2.0 / np.prod(shape[1:]))
            model.graph.initializer.append(
                numpy_helper.from_array(w.astype(np.float32), node.output[0]))
        else:
            kept.append(node)
    del model.graph.node[:]
    model.graph.node.extend(kept)
    return model


@pytest.mark.slow
@pytest.mark.parametrize("name", NETWORKS)
def test_model_zoo_network_matches_onnxruntime(name):
    model = with_random_weights(LIGHT / f"light_{name}.onnx")
    inits = {i.name for i in model.graph.initializer}
    (x,) = [i for i in model.graph.input if i.name not in inits]
    shape = [d.dim_value or 1 for d in x.type.tensor_type.shape.dim]
    feed = np.random.default_rng(1).standard_normal(shape).astype(np.float32)
    session = ort.InferenceSession(model.SerializeToString(),
                                   providers=["CPUExecutionProvider"])
    (expected,) = session.run(None, {x.name: feed})
    got = load(model)(feed).detach().numpy()
    assert got.shape == expected.shape
    # float32 through up to 121 layers: an element's error follows the scale of the sums
    # that made it, so the absolute tolerance grows with the output's largest value
    # (DenseNet-121: outputs up to ~120; errors up to 5e-5 with oneMKL, 4e-7 of that)
    atol = max(1e-5, 1e-6 * float(np.abs(expected).max()))
    np.testing.assert_allclose(got, expected, rtol=1e-4, atol=atol)
