"""axonic.onnx.export: exported models run in onnxruntime with axonic's outputs (1e-5
relative to the output's scale), batch sizes 1 and 7 through one file with a dynamic axis,
and every file passes onnx.checker.check_model(full_check=True)."""

import io

import numpy as np
import onnx
import onnxruntime as ort
import pytest

import axonic
from axonic import nn
from axonic.models.vision_transformer import VisionTransformer

RTOL = 1e-5


def export_bytes(model, example, dynamic, names=("x",), outputs=("y",), **kw) -> bytes:
    buf = io.BytesIO()
    axes = {n: dict(dynamic) for n in (*names, *outputs)}
    axonic.onnx.export(model, example, buf, input_names=list(names),
                       output_names=list(outputs), dynamic_axes=axes, **kw)
    data = buf.getvalue()
    onnx.checker.check_model(onnx.load_from_string(data), full_check=True)
    return data


def run(data, *inputs) -> list:
    sess = ort.InferenceSession(data, providers=["CPUExecutionProvider"])
    feeds = {i.name: x.numpy() for i, x in zip(sess.get_inputs(), inputs)}
    return sess.run(None, feeds)


def reference(model, *inputs) -> list:
    with axonic.no_grad():
        out = model(*inputs)
    outs = list(out) if isinstance(out, (tuple, list)) else [out]
    flat = []
    for o in outs:
        flat += list(o) if isinstance(o, tuple) else [o]
    return [o.numpy() for o in flat if o is not None]


def assert_close(got, want):
    assert got.shape == want.shape
    scale = max(float(np.abs(want).max()), 1e-12)
    assert float(np.abs(got - want).max()) <= RTOL * scale, (np.abs(got - want).max(), scale)


def check_batches(model, make_input, dynamic, batches=(1, 7), **kw):
    """Export with batch 2, then run batch sizes 1 and 7 through the one file."""
    model.eval()
    data = export_bytes(model, make_input(2), dynamic, **kw)
    for b in batches:
        x = make_input(b)
        outs = run(data, x)
        refs = reference(model, x)
        assert len(outs) == len(refs)
        for got, want in zip(outs, refs):
            assert_close(got, want)
    return data


def op_types(data) -> list:
    return [n.op_type for n in onnx.load_from_string(data).graph.node]


def test_mlp_matches_onnxruntime_for_batches_1_and_7():
    model = nn.Sequential(nn.Linear(10, 32), nn.ReLU(), nn.Dropout(0.5), nn.Linear(32, 16),
                          nn.Tanh(), nn.Linear(16, 3))
    data = check_batches(model, lambda b: axonic.randn(b, 10), {0: "batch"})
    assert "Dropout" not in op_types(data)  # removed in eval
    inp = onnx.load_from_string(data).graph.input[0]
    assert inp.type.tensor_type.shape.dim[0].dim_param == "batch"


def _cnn():
    model = nn.Sequential(
        nn.Conv2d(1, 6, 3, padding=1), nn.BatchNorm2d(6), nn.ReLU(), nn.MaxPool2d(2),
        nn.Conv2d(6, 8, 3, stride=2, padding=1, groups=2), nn.BatchNorm2d(8), nn.GELU(),
        nn.AvgPool2d(2, padding=1, count_include_pad=False),
        nn.ConvTranspose2d(8, 4, 3, stride=2, padding=1, output_padding=1), nn.SiLU(),
        nn.AdaptiveAvgPool2d(1), nn.Flatten(), nn.Linear(4, 5), nn.LogSoftmax(dim=1))
    rng = np.random.default_rng(1)
    for m in model:
        if isinstance(m, nn.BatchNorm2d):  # non-trivial running statistics
            m.running_mean._data[:] = rng.normal(size=m.num_features)
            m.running_var._data[:] = rng.uniform(0.5, 2, size=m.num_features)
    return model


def test_cnn_with_batchnorm_matches_onnxruntime():
    data = check_batches(_cnn(), lambda b: axonic.randn(b, 1, 12, 12), {0: "batch"})
    kinds = op_types(data)
    assert {"Conv", "BatchNormalization", "MaxPool", "AveragePool", "ConvTranspose",
            "GlobalAveragePool", "LogSoftmax"} <= set(kinds)


def test_cnn_with_dynamic_height_and_width():
    model = nn.Sequential(nn.Conv2d(3, 4, 3, padding=1), nn.BatchNorm2d(4), nn.ReLU(),
                          nn.MaxPool2d(2, ceil_mode=True), nn.Conv2d(4, 2, 1))
    model.eval()
    data = export_bytes(model, axonic.randn(2, 3, 8, 8), {0: "b", 2: "h", 3: "w"})
    for shape in ((1, 3, 9, 7), (5, 3, 16, 11)):
        x = axonic.randn(*shape)
        assert_close(run(data, x)[0], reference(model, x)[0])


def test_conv1d_pool1d_batchnorm1d_match_onnxruntime():
    model = nn.Sequential(nn.Conv1d(2, 4, 3, padding="same"), nn.BatchNorm1d(4),
                          nn.MaxPool1d(2), nn.ReLU(), nn.AvgPool1d(2), nn.Flatten(),
                          nn.Linear(16, 2))
    check_batches(model, lambda b: axonic.randn(b, 2, 16), {0: "batch"})


def test_lstm_matches_onnxruntime_with_dynamic_batch_and_sequence():
    model = nn.LSTM(3, 5, num_layers=2, batch_first=True)
    model.eval()
    data = export_bytes(model, axonic.randn(2, 6, 3), {0: "batch", 1: "seq"},
                        outputs=("y", "h", "c"))
    assert op_types(data).count("LSTM") == 2
    for b, t in ((1, 4), (7, 9)):
        x = axonic.randn(b, t, 3)
        for got, want in zip(run(data, x), reference(model, x)):
            assert_close(got, want)


def test_bidirectional_lstm_with_initial_state():
    class WithState(nn.Module):
        def __init__(self):
            super().__init__()
            self.lstm = nn.LSTM(4, 3, bidirectional=True)

        def forward(self, x, h, c):
            return self.lstm(x, (h, c))[0]

    model = WithState().eval()
    args = (axonic.randn(5, 2, 4), axonic.randn(2, 2, 3), axonic.randn(2, 2, 3))
    buf = io.BytesIO()
    axonic.onnx.export(model, args, buf, input_names=["x", "h", "c"],
                       dynamic_axes={"x": {1: "batch"}, "h": {1: "batch"}, "c": {1: "batch"}})
    args7 = (axonic.randn(5, 7, 4), axonic.randn(2, 7, 3), axonic.randn(2, 7, 3))
    assert_close(run(buf.getvalue(), *args7)[0], reference(model, *args7)[0])


def test_gru_matches_onnxruntime_bidirectional():
    model = nn.GRU(3, 5, num_layers=2, bidirectional=True)
    model.eval()
    data = export_bytes(model, axonic.randn(6, 2, 3), {0: "seq", 1: "batch"},
                        outputs=("y", "h"))
    assert op_types(data).count("GRU") == 4
    for b, t in ((1, 3), (7, 8)):
        x = axonic.randn(t, b, 3)
        for got, want in zip(run(data, x), reference(model, x)):
            assert_close(got, want)


@pytest.mark.parametrize("nonlinearity", ["tanh", "relu"])
def test_rnn_matches_onnxruntime(nonlinearity):
    model = nn.RNN(3, 4, nonlinearity=nonlinearity, batch_first=True)
    check_batches(model, lambda b: axonic.randn(b, 5, 3), {0: "batch"}, outputs=("y", "h"))


def test_embedding_and_lstm_classifier_with_integer_input():
    class Tagger(nn.Module):
        def __init__(self):
            super().__init__()
            self.emb = nn.Embedding(20, 6)
            self.lstm = nn.GRU(6, 8, batch_first=True)
            self.out = nn.Linear(8, 4)

        def forward(self, tokens):
            return self.out(self.lstm(self.emb(tokens))[0])

    model = Tagger().eval()
    rng = np.random.default_rng(0)
    make = lambda b: axonic.tensor(rng.integers(0, 20, size=(b, 7)))  # noqa: E731
    data = check_batches(model, make, {0: "batch"})
    assert "Gather" in op_types(data)


def test_transformer_encoder_matches_onnxruntime_with_dynamic_batch_and_sequence():
    layer = nn.TransformerEncoderLayer(16, 4, 32, dropout=0.1, activation="gelu",
                                       batch_first=True)
    model = nn.TransformerEncoder(layer, 2, norm=nn.LayerNorm(16)).eval()
    data = export_bytes(model, axonic.randn(2, 5, 16), {0: "batch", 1: "seq"})
    for b, t in ((1, 5), (7, 5), (3, 11)):
        x = axonic.randn(b, t, 16)
        assert_close(run(data, x)[0], reference(model, x)[0])
    assert "LayerNormalization" in op_types(data) and "Softmax" in op_types(data)


def test_norm_first_encoder_layer_sequence_first():
    model = nn.TransformerEncoderLayer(8, 2, 16, norm_first=True).eval()
    check_batches(model, lambda b: axonic.randn(6, b, 8), {1: "batch"})


def test_transformer_decoder_layer_with_memory():
    class Decoder(nn.Module):
        def __init__(self):
            super().__init__()
            self.layer = nn.TransformerDecoderLayer(8, 2, 16, batch_first=True)

        def forward(self, tgt, memory):
            return self.layer(tgt, memory)

    model = Decoder().eval()
    buf = io.BytesIO()
    axonic.onnx.export(model, (axonic.randn(2, 4, 8), axonic.randn(2, 6, 8)), buf,
                       input_names=["tgt", "memory"],
                       dynamic_axes={"tgt": {0: "batch"}, "memory": {0: "batch"}})
    args = (axonic.randn(7, 4, 8), axonic.randn(7, 6, 8))
    assert_close(run(buf.getvalue(), *args)[0], reference(model, *args)[0])


def test_multihead_attention_outputs_and_weights():
    model = nn.MultiheadAttention(8, 2, batch_first=True).eval()

    class SelfAttention(nn.Module):
        def __init__(self):
            super().__init__()
            self.mha = model

        def forward(self, x):
            return self.mha(x, x, x)

    wrapper = SelfAttention().eval()
    check_batches(wrapper, lambda b: axonic.randn(b, 5, 8), {0: "batch"},
                  outputs=("out", "weights"))


def test_vit_block_matches_onnxruntime():
    model = VisionTransformer(image_size=16, patch_size=4, num_layers=2, num_heads=2,
                              hidden_dim=16, mlp_dim=32, num_classes=5)
    nn.init.normal_(model.heads.head.weight, std=0.5)  # the classifier starts at zero
    data = check_batches(model, lambda b: axonic.randn(b, 3, 16, 16), {0: "batch"})
    assert "Expand" in op_types(data)  # the class token follows the batch size


@pytest.mark.parametrize("name", ["ReLU", "Sigmoid", "Tanh", "SiLU", "LeakyReLU", "ELU",
                                  "GELU", "Softplus", "PReLU", "SELU", "CELU", "Hardtanh",
                                  "ReLU6", "Hardsigmoid", "Hardswish", "Mish", "LogSigmoid",
                                  "Softsign", "GLU", "Softmax", "LogSoftmax", "Softmin"])
def test_activation_matches_onnxruntime(name):
    cls = getattr(nn, name)
    act = cls(dim=1) if name in ("Softmax", "LogSoftmax", "Softmin") else cls()
    model = nn.Sequential(nn.Linear(6, 8), act)
    check_batches(model, lambda b: axonic.randn(b, 6) * 3, {0: "batch"})


def test_gelu_tanh_and_layer_norm_without_affine():
    model = nn.Sequential(nn.Linear(4, 6), nn.GELU(approximate="tanh"),
                          nn.LayerNorm(6, elementwise_affine=False))
    check_batches(model, lambda b: axonic.randn(b, 3, 4), {0: "batch"})


def test_export_params_false_makes_parameters_inputs():
    model = nn.Sequential(nn.Linear(3, 2)).eval()
    data = export_bytes(model, axonic.randn(2, 3), {0: "batch"}, export_params=False)
    proto = onnx.load_from_string(data)
    assert [i.name for i in proto.graph.input] == ["x", "0.weight", "0.bias"]
    assert len(proto.graph.initializer) == 0
    x = axonic.randn(4, 3)
    sess = ort.InferenceSession(data, providers=["CPUExecutionProvider"])
    got = sess.run(None, {"x": x.numpy(), "0.weight": model[0].weight.detach().numpy(),
                          "0.bias": model[0].bias.detach().numpy()})[0]
    assert_close(got, reference(model, x)[0])


def test_parameters_are_initializers_named_by_state_dict_keys(tmp_path):
    model = _cnn()
    path = tmp_path / "cnn.onnx"
    axonic.onnx.export(model, axonic.randn(1, 1, 12, 12), str(path))
    names = {i.name for i in onnx.load(str(path)).graph.initializer}
    assert {"0.weight", "0.bias", "1.running_mean", "1.running_var", "12.weight"} <= names
    assert model.training  # the model's mode is restored


def test_positions_made_with_arange_follow_the_dynamic_sequence():
    class AddPositions(nn.Module):
        def forward(self, x):
            return x + axonic.arange(x.shape[1]).float()

    model = AddPositions()
    data = export_bytes(model, axonic.randn(2, 3), {0: "batch", 1: "seq"})
    assert "Range" in op_types(data)
    x = axonic.randn(4, 9)
    assert_close(run(data, x)[0], reference(model, x)[0])


def test_export_leaves_frozen_parameters_frozen():
    model = nn.Linear(3, 2)
    model.weight.requires_grad_(False)
    x = axonic.randn(2, 3)
    data = export_bytes(model, x, {0: "batch"})
    assert not model.weight.requires_grad and model.bias.requires_grad
    assert_close(run(data, x)[0], reference(model, x)[0])


def test_in_place_ops_and_an_input_with_history():
    class InPlace(nn.Module):
        def __init__(self):
            super().__init__()
            self.fc = nn.Linear(3, 4)
            self.act = nn.ReLU(inplace=True)

        def forward(self, x):
            y = self.act(self.fc(x))
            y += 1
            y *= x.sum(1, keepdim=True)
            return y

    model = InPlace().eval()
    example = axonic.randn(2, 3, requires_grad=True) * 2  # not a leaf: its history stays out
    data = export_bytes(model, example, {0: "batch"})
    assert "Mul" in op_types(data) and len(onnx.load_from_string(data).graph.input) == 1
    x = axonic.randn(5, 3)
    assert_close(run(data, x)[0], reference(model, x)[0])


def test_names_chosen_by_the_user_never_clash_with_internal_ones(capsys):
    model = nn.Sequential(nn.Linear(3, 4), nn.ReLU(), nn.Linear(4, 2)).eval()
    data = export_bytes(model, axonic.randn(2, 3), {0: "batch"}, names=("Relu_0",),
                        outputs=("Gemm_0",))
    x = axonic.randn(3, 3)
    assert_close(run(data, x)[0], reference(model, x)[0])
    axonic.onnx.export(model, x, io.BytesIO(), verbose=True)
    assert "Relu" in capsys.readouterr().out


def test_exports_from_several_threads_give_the_single_thread_files_and_restore_apply():
    """The trace swaps ``Function.apply`` while the model runs: overlapping exports must
    each get their own file, and the process its original ``apply`` afterwards."""
    import threading

    from axonic.autograd.function import Function

    axonic.manual_seed(0)
    models = [nn.Sequential(nn.Linear(6, 8), nn.ReLU(), nn.Linear(8, 3)).eval(),
              nn.Sequential(nn.Conv2d(2, 4, 3), nn.Tanh(), nn.Flatten(), nn.Linear(64, 2)).eval()]
    examples = [axonic.randn(5, 6), axonic.randn(5, 2, 6, 6)]
    alone = [export_bytes(m, (x,), {0: "batch"}) for m, x in zip(models, examples)]
    original = Function.__dict__["apply"]
    got, errors = {}, []

    def work(i, rounds=8):
        try:
            got[i] = [export_bytes(models[i % 2], (examples[i % 2],), {0: "batch"})
                      for _ in range(rounds)]
        except Exception as e:  # reported below with the thread's index
            errors.append((i, e))

    threads = [threading.Thread(target=work, args=(i,)) for i in range(4)]
    for t in threads:
        t.start()
    for _ in range(20):  # ops of an unrelated thread meanwhile: neither recorded nor broken
        (axonic.randn(3, 3, requires_grad=True) * 2).sum().backward()
    for t in threads:
        t.join()
    assert errors == []
    assert all(data == alone[i % 2] for i, files in got.items() for data in files)
    assert Function.__dict__["apply"] is original
