"""axonic.onnx.load: an imported graph is a trainable Module, its ops are differentiable,
and bad input gets clear errors."""

from __future__ import annotations

import numpy as np
import pytest

import axonic
from axonic import nn, optim
from axonic.onnx.load_model import load

onnx = pytest.importorskip("onnx")
from onnx import TensorProto, helper, numpy_helper  # noqa: E402


def _model(nodes, inputs, outputs, inits=(), opset=17):
    graph = helper.make_graph(nodes, "g", inputs, outputs, list(inits))
    return helper.make_model(graph, opset_imports=[helper.make_opsetid("", opset)])


def _info(name, shape, dtype=TensorProto.FLOAT):
    return helper.make_tensor_value_info(name, dtype, shape)


def _mlp_onnx(net: nn.Sequential):
    """The ONNX graph torch.onnx.export writes for Linear-ReLU-Linear (Gemm with transB)."""
    inits = [numpy_helper.from_array(p.detach().numpy().copy(), name)
             for name, p in net.state_dict().items()]
    nodes = [helper.make_node("Gemm", ["x", "0.weight", "0.bias"], ["h"], transB=1),
             helper.make_node("Relu", ["h"], ["r"]),
             helper.make_node("Gemm", ["r", "2.weight", "2.bias"], ["y"], transB=1)]
    return _model(nodes, [_info("x", ["batch", 64])], [_info("y", ["batch", 10])], inits)


def _digits():
    from sklearn.datasets import load_digits

    X, y = load_digits(return_X_y=True)
    return (X[:256] / 16.0).astype(np.float32), y[:256].astype(np.int64)


def test_imported_mlp_fine_tunes_like_the_same_axonic_model():
    axonic.manual_seed(0)
    net = nn.Sequential(nn.Linear(64, 32), nn.ReLU(), nn.Linear(32, 10))
    imported = load(_mlp_onnx(net).SerializeToString())
    assert list(imported.state_dict()) == list(net.state_dict())
    assert all(isinstance(p, nn.Parameter) for p in imported.parameters())

    X, y = _digits()
    loss_fn = nn.CrossEntropyLoss()
    opt_a = optim.SGD(net.parameters(), lr=0.5)
    opt_b = optim.SGD(imported.parameters(), lr=0.5)
    losses = []
    for _step in range(15):
        for model, opt in ((net, opt_a), (imported, opt_b)):
            opt.zero_grad()
            loss = loss_fn(model(axonic.tensor(X)), axonic.tensor(y))
            loss.backward()
            if model is imported:
                losses.append(loss.item())
                for (name, p), q in zip(imported.named_parameters(), net.parameters()):
                    np.testing.assert_allclose(p.grad.numpy(), q.grad.numpy(), rtol=1e-5,
                                               atol=1e-6, err_msg=name)
            opt.step()
    assert losses[-1] < losses[0] * 0.9
    for p, q in zip(imported.parameters(), net.parameters()):
        np.testing.assert_allclose(p.detach().numpy(), q.detach().numpy(), rtol=1e-5, atol=1e-6)


def test_integer_initializers_become_buffers_and_odd_names_are_kept_reachable():
    shape = numpy_helper.from_array(np.array([2, 3], dtype=np.int64), "onnx::Reshape_7")
    scale = numpy_helper.from_array(np.full((6,), 2.0, dtype=np.float32), "scale")
    nodes = [helper.make_node("Mul", ["x", "scale"], ["m"]),
             helper.make_node("Reshape", ["m", "onnx::Reshape_7"], ["y"])]
    m = load(_model(nodes, [_info("x", [6])], [_info("y", [2, 3])], [shape, scale]))
    assert [n for n, _ in m.named_parameters()] == ["scale"]
    assert [n for n, _ in m.named_buffers()] == ["onnx__Reshape_7"]
    assert m.onnx_names == {"onnx::Reshape_7": "onnx__Reshape_7", "scale": "scale"}
    assert m(axonic.arange(6.0)).tolist() == [[0.0, 2.0, 4.0], [6.0, 8.0, 10.0]]


def _conv_bn_softmax():
    rng = np.random.default_rng(0)
    inits = [numpy_helper.from_array(rng.standard_normal(s).astype(np.float64), n) for n, s in
             [("w", (4, 2, 3, 3)), ("b", (4,)), ("g", (4,)), ("beta", (4,)), ("mu", (4,))]]
    inits.append(numpy_helper.from_array(rng.uniform(0.5, 2, 4), "var"))
    nodes = [helper.make_node("Conv", ["x", "w", "b"], ["c"], pads=[1, 0, 1, 2], strides=[2, 1]),
             helper.make_node("BatchNormalization", ["c", "g", "beta", "mu", "var"], ["n"]),
             helper.make_node("MaxPool", ["n"], ["p"], kernel_shape=[2, 2], ceil_mode=1),
             helper.make_node("Flatten", ["p"], ["f"]),
             helper.make_node("Softmax", ["f"], ["y"], axis=-1)]
    d = TensorProto.DOUBLE
    return _model(nodes, [_info("x", [1, 2, 5, 5], d)], [_info("y", None, d)], inits)


def test_gradients_through_an_imported_graph_pass_gradcheck():
    m = load(_conv_bn_softmax())
    x = axonic.randn(1, 2, 5, 5, dtype=axonic.float64, requires_grad=True)
    w = axonic.randn(1, 32, dtype=axonic.float64)
    assert axonic.autograd.gradcheck(lambda t: (m(t) * w).sum(), (x,))
    (m(x) * w).sum().backward()
    assert m.w.grad.shape == (4, 2, 3, 3) and np.abs(m.w.grad.numpy()).sum() > 0


def test_gradients_flow_through_the_taken_branch_of_if():
    then = helper.make_graph([helper.make_node("Mul", ["x", "x"], ["t"])], "then", [],
                             [_info("t", [3])])
    other = helper.make_graph([helper.make_node("Neg", ["x"], ["e"])], "else", [],
                              [_info("e", [3])])
    nodes = [helper.make_node("If", ["c"], ["y"], then_branch=then, else_branch=other)]
    m = load(_model(nodes, [_info("c", [], TensorProto.BOOL), _info("x", [3])],
                    [_info("y", [3])]))
    for cond, expected in ((True, [2.0, 4.0, 6.0]), (False, [-1.0, -1.0, -1.0])):
        x = axonic.tensor([1.0, 2.0, 3.0], requires_grad=True)
        m(np.array(cond), x).sum().backward()
        assert x.grad.tolist() == expected


def test_attribute_and_input_forms_of_an_op_agree_across_opsets():
    x = np.arange(24, dtype=np.float32).reshape(2, 3, 4)
    old = _model([helper.make_node("Slice", ["x"], ["y"], starts=[1, 0], ends=[3, -1],
                                   axes=[1, 2]),
                  helper.make_node("Unsqueeze", ["y"], ["z"], axes=[0])],
                 [_info("x", [2, 3, 4])], [_info("z", None)], opset=9)
    consts = [numpy_helper.from_array(np.array(v, dtype=np.int64), n) for n, v in
              [("s", [1, 0]), ("e", [3, -1]), ("a", [1, 2]), ("u", [0])]]
    new = _model([helper.make_node("Slice", ["x", "s", "e", "a"], ["y"]),
                  helper.make_node("Unsqueeze", ["y", "u"], ["z"])],
                 [_info("x", [2, 3, 4])], [_info("z", None)], consts, opset=13)
    expected = x[None, :, 1:3, 0:-1]
    assert np.array_equal(load(old)(x).numpy(), expected)
    assert np.array_equal(load(new)(x).numpy(), expected)


# --- errors -------------------------------------------------------------------------------

def test_unsupported_op_error_names_op_opset_and_node():
    nodes = [helper.make_node("Relu", ["x"], ["r"], name="first"),
             helper.make_node("TfIdfVectorizer", ["r"], ["y"], name="tfidf")]
    with pytest.raises(NotImplementedError, match=r"op 'TfIdfVectorizer' \(domain 'ai.onnx', "
                                                  r"opset 17\) of node 'tfidf'"):
        load(_model(nodes, [_info("x", [4])], [_info("y", None)]))


def test_unknown_domain_error_names_the_domain():
    nodes = [helper.make_node("Relu", ["x"], ["y"], name="r", domain="com.example")]
    with pytest.raises(ValueError, match="uses domain 'com.example', which the model does not"):
        load(_model(nodes, [_info("x", [4])], [_info("y", None)]))


def test_bad_file_error_names_the_file(tmp_path):
    bad = tmp_path / "broken.onnx"
    bad.write_bytes(b"\x08\x07garbage that is not a protobuf \xff\xff")
    with pytest.raises(ValueError, match=r"broken\.onnx is not an ONNX model"):
        load(bad)
    with pytest.raises(FileNotFoundError, match=r"no such file '.*missing\.onnx'"):
        load(tmp_path / "missing.onnx")
    with pytest.raises(TypeError, match="expected a path, bytes, a file object or an "
                                        "onnx.ModelProto; got int"):
        load(3)


def test_empty_bytes_are_not_a_model():
    with pytest.raises(ValueError, match=r"<bytes> is not an ONNX model \(it has no graph"):
        load(b"")


def test_wrong_inputs_are_named():
    m = load(_model([helper.make_node("Relu", ["x"], ["y"])], [_info("x", [2])],
                    [_info("y", [2])]))
    with pytest.raises(TypeError, match=r"missing graph inputs \['x'\]"):
        m()
    with pytest.raises(TypeError, match=r"no graph input named 'z'; inputs: \['x'\]"):
        m(z=np.zeros(2, np.float32))
    with pytest.raises(TypeError, match=r"the graph takes 1 inputs \['x'\]; got 2"):
        m(np.zeros(2, np.float32), np.zeros(2, np.float32))


def test_reading_an_undefined_name_is_an_error_naming_the_node():
    nodes = [helper.make_node("Add", ["x", "ghost"], ["y"], name="adder")]
    m = load(_model(nodes, [_info("x", [2])], [_info("y", [2])]))
    with pytest.raises(ValueError, match=r"Add node 'adder' \(opset 17\) reads 'ghost'"):
        m(np.zeros(2, np.float32))


def _rows(w, order, H):
    """Gate blocks of ``w`` (PyTorch's order) rearranged into ONNX's."""
    return np.concatenate([w[k * H:(k + 1) * H] for k in order])


@pytest.mark.parametrize("kind", ["LSTM", "GRU"])
def test_imported_recurrent_layer_matches_axonic_layer_with_gradients(kind):
    axonic.manual_seed(0)
    T, B, I, H = 5, 3, 4, 6
    layer = getattr(nn, kind)(I, H)
    sd = {k: v.detach().numpy() for k, v in layer.state_dict().items()}
    order = [0, 3, 1, 2] if kind == "LSTM" else [1, 0, 2]  # torch ifgo -> onnx iofc; rzn -> zrh
    w = _rows(sd["weight_ih_l0"], order, H)[None]
    r = _rows(sd["weight_hh_l0"], order, H)[None]
    b = np.concatenate([_rows(sd["bias_ih_l0"], order, H), _rows(sd["bias_hh_l0"], order, H)])
    inits = [numpy_helper.from_array(a.astype(np.float32), n)
             for n, a in (("W", w), ("R", r), ("B", b[None]))]
    attrs = {"hidden_size": H}
    if kind == "GRU":
        attrs["linear_before_reset"] = 1  # PyTorch's GRU
    node = helper.make_node(kind, ["x", "W", "R", "B"], ["y", "h"], **attrs)
    m = load(_model([node], [_info("x", [T, B, I])], [_info("y", None), _info("h", None)],
                    inits))
    x = axonic.randn(T, B, I)
    xa = x.detach().clone().requires_grad_(True)
    xb = x.detach().clone().requires_grad_(True)
    y_onnx, h_onnx = m(xa)
    y_ref, _ = layer(xb)
    np.testing.assert_allclose(y_onnx[:, 0].detach().numpy(), y_ref.detach().numpy(),
                               rtol=1e-5, atol=1e-6)
    np.testing.assert_allclose(h_onnx[0].detach().numpy(), y_ref[-1].detach().numpy(),
                               rtol=1e-5, atol=1e-6)
    y_onnx[:, 0].sum().backward()
    y_ref.sum().backward()
    np.testing.assert_allclose(xa.grad.numpy(), xb.grad.numpy(), rtol=1e-4, atol=1e-6)
    np.testing.assert_allclose(m.R.grad.numpy()[0], _rows(layer.weight_hh_l0.grad.numpy(),
                                                          order, H), rtol=1e-4, atol=1e-5)


def test_three_d_conv_and_conv_transpose_match_torch():
    torch = pytest.importorskip("torch")
    rng = np.random.default_rng(0)
    x = rng.standard_normal((2, 4, 5, 6, 4)).astype(np.float32)
    w = rng.standard_normal((6, 2, 3, 2, 2)).astype(np.float32)
    wt = rng.standard_normal((4, 3, 3, 2, 2)).astype(np.float32)
    conv = helper.make_node("Conv", ["x", "w"], ["y"], group=2, strides=[2, 1, 1],
                            pads=[1, 0, 1, 1, 1, 0], dilations=[1, 2, 1])
    deconv = helper.make_node("ConvTranspose", ["x", "wt"], ["z"], group=2,
                              strides=[2, 1, 3], dilations=[1, 2, 1])
    inits = [numpy_helper.from_array(w, "w"), numpy_helper.from_array(wt, "wt")]
    m = load(_model([conv, deconv], [_info("x", list(x.shape))],
                    [_info("y", None), _info("z", None)], inits))
    xa = axonic.tensor(x, requires_grad=True)
    y, z = m(xa)
    xt = torch.tensor(x, requires_grad=True)
    y_ref = torch.nn.functional.conv3d(
        torch.nn.functional.pad(xt, (1, 0, 0, 1, 1, 1)), torch.tensor(w), stride=(2, 1, 1),
        dilation=(1, 2, 1), groups=2)
    z_ref = torch.nn.functional.conv_transpose3d(xt, torch.tensor(wt), stride=(2, 1, 3),
                                                 dilation=(1, 2, 1), groups=2)
    np.testing.assert_allclose(y.detach().numpy(), y_ref.detach().numpy(), rtol=1e-4,
                               atol=1e-4)
    np.testing.assert_allclose(z.detach().numpy(), z_ref.detach().numpy(), rtol=1e-4,
                               atol=1e-4)
    (y.sum() + z.sum()).backward()
    (y_ref.sum() + z_ref.sum()).backward()
    np.testing.assert_allclose(xa.grad.numpy(), xt.grad.numpy(), rtol=1e-4, atol=1e-4)


def test_missing_onnx_package_names_the_extra(monkeypatch):
    import sys

    monkeypatch.setitem(sys.modules, "onnx", None)  # as if onnx were not installed
    with pytest.raises(ImportError, match=r"pip install 'axonic\[onnx\]'"):
        load(b"\x08\x07")
