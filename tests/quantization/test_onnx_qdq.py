"""QDQ ONNX export of statically quantised models, run in onnxruntime."""

import numpy as np
import onnx
import onnxruntime as ort
import pytest

import axonic
import axonic.quantization as aq
from axonic import nn
from tests.quantization._torch import CNN_FUSE, cnn, images


def _quantised(model, x, fuse):
    m = aq.QuantWrapper(model.eval())
    m.qconfig = aq.get_default_qconfig()
    m.module = aq.fuse_modules(m.module, fuse)
    p = aq.prepare(m)
    p(axonic.tensor(x))
    return aq.convert(p)


def _agree(ours, theirs, step):
    """Equal but for values on a rounding edge: onnxruntime computes the float ops on
    dequantised values (or its own integer kernels), axonic exact integer sums, so a
    value within float rounding of .5 step may land one step apart."""
    diff = np.abs(ours - theirs)
    assert diff.max() <= step * 1.001
    assert (diff > 1e-6).mean() < 0.02


def _run(path, x):
    return ort.InferenceSession(str(path), providers=["CPUExecutionProvider"]).run(
        None, {"input": x})[0]


def test_qdq_cnn_runs_in_onnxruntime_with_axonic_outputs(tmp_path):
    x = images(64)
    q = _quantised(cnn(axonic), x, CNN_FUSE)
    path = tmp_path / "cnn.onnx"
    aq.export_qdq(q, axonic.tensor(x[:2]), path)
    model = onnx.load(path)
    onnx.checker.check_model(model, full_check=True)
    ops = [n.op_type for n in model.graph.node]
    assert ops.count("QuantizeLinear") == 5 and {"Conv", "Gemm", "MaxPool", "Flatten"} <= set(ops)
    int8 = [i for i in model.graph.initializer if i.data_type == onnx.TensorProto.INT8]
    assert len(int8) >= 4  # the four weight matrices stay int8 in the file
    for n in (1, 7, 64):  # one file, a dynamic batch axis
        _agree(q(axonic.tensor(x[:n])).numpy(), _run(path, x[:n]), float(q.module[9].scale))


def test_qdq_mlp_runs_in_onnxruntime_with_axonic_outputs(tmp_path):
    x = images(64).reshape(64, 64)
    model = nn.Sequential(nn.Linear(64, 48), nn.ReLU(), nn.Dropout(0.2), nn.Linear(48, 10))
    q = _quantised(model, x, [["0", "1"]])
    path = tmp_path / "mlp.onnx"
    aq.export_qdq(q, axonic.tensor(x[:3]), path)
    for n in (1, 7, 64):
        _agree(q(axonic.tensor(x[:n])).numpy(), _run(path, x[:n]), float(q.module[3].scale))


def test_qdq_average_pooling_agrees_within_one_step(tmp_path):
    # an average lands on .5 steps often; onnxruntime rounds its float value, axonic (as
    # PyTorch) the exact integer average: ties may round apart by one step
    x = images(64)
    q = _quantised(cnn(axonic, pool="avg"), x, CNN_FUSE)
    path = tmp_path / "avg.onnx"
    aq.export_qdq(q, axonic.tensor(x[:2]), path)
    ours, theirs = q(axonic.tensor(x)).numpy(), _run(path, x)
    step = float(q.module[9].scale._data)
    assert np.abs(ours - theirs).max() <= 3 * step
    assert (ours.argmax(1) == theirs.argmax(1)).mean() >= 0.95


def test_qdq_export_errors_name_the_problem(tmp_path):
    x = images(8).reshape(8, 64)
    dyn = aq.quantize_dynamic(nn.Sequential(nn.Linear(64, 10)))
    with pytest.raises(ValueError, match=r"export_qdq: the model's output is not the last "
                                         r"quantised module's"):
        aq.export_qdq(dyn, axonic.tensor(x), tmp_path / "d.onnx")
    q = _quantised(nn.Sequential(nn.Linear(64, 10)), x, [])
    with pytest.raises(ValueError, match=r"export_qdq: opset_version must be >= 13"):
        aq.export_qdq(q, axonic.tensor(x), tmp_path / "q.onnx", opset_version=11)
    q.dequant = nn.Identity()
    with pytest.raises(ValueError, match=r"export_qdq: the model returns quantised values"):
        aq.export_qdq(q, axonic.tensor(x), tmp_path / "q.onnx")
