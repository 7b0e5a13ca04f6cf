"""The ready architectures of axonic.models export and run in onnxruntime with axonic's
outputs; the same model exported by torch.onnx.export gives the same outputs."""

import io

import numpy as np
import onnx
import pytest

import axonic
from axonic import nn
from axonic.models.bert import BertConfig, BertModel
from axonic.models.gpt import GPT, GPTConfig
from axonic.models.lenet import LeNet5
from axonic.models.resnet import BasicBlock, ResNet
from tests.conftest import requires_torch
from tests.onnx.test_export_models import assert_close, op_types, reference, run

RNG = np.random.default_rng(0)


def ids(b, t, vocab=50):
    return axonic.tensor(RNG.integers(0, vocab, size=(b, t)))


def export_bytes(model, args, names, dynamic) -> bytes:
    buf = io.BytesIO()
    axonic.onnx.export(model.eval(), args, buf, input_names=names,
                       dynamic_axes={n: dynamic for n in names})
    data = buf.getvalue()
    onnx.checker.check_model(onnx.load_from_string(data), full_check=True)
    return data


def test_gpt_exports_with_dynamic_batch_and_sequence():
    model = GPT(GPTConfig(block_size=16, vocab_size=50, n_layer=2, n_head=2, n_embd=16))
    data = export_bytes(model, (ids(2, 8),), ["idx"], {0: "batch", 1: "seq"})
    kinds = op_types(data)
    assert "Range" in kinds and "Trilu" in kinds  # positions and the causal mask
    for b, t in ((1, 8), (7, 3), (3, 16)):
        x = ids(b, t)
        assert_close(run(data, x)[0], reference(model, x)[0])


def test_bert_exports_with_dynamic_batch():
    cfg = BertConfig(vocab_size=50, hidden_size=16, num_hidden_layers=2,
                     num_attention_heads=4, intermediate_size=32)
    model = BertModel(cfg)
    data = export_bytes(model, (ids(2, 6),), ["input_ids"], {0: "batch"})
    for b in (1, 7):
        x = ids(b, 6)
        for got, want in zip(run(data, x), reference(model, x)):
            assert_close(got, want)


@pytest.mark.parametrize("make, shape", [
    (lambda: LeNet5(), (1, 28, 28)),
    (lambda: ResNet(BasicBlock, [1, 1, 1, 1], num_classes=10), (3, 32, 32)),
])
def test_cnn_zoo_exports_with_dynamic_batch(make, shape):
    model = make()
    data = export_bytes(model, (axonic.randn(2, *shape),), ["x"], {0: "batch"})
    for b in (1, 7):
        x = axonic.randn(b, *shape)
        assert_close(run(data, x)[0], reference(model, x)[0])


def test_full_transformer_with_two_inputs():
    model = nn.Transformer(16, 2, 1, 1, 32, batch_first=True)
    data = export_bytes(model, (axonic.randn(2, 5, 16), axonic.randn(2, 4, 16)),
                        ["src", "tgt"], {0: "batch"})
    args = (axonic.randn(7, 5, 16), axonic.randn(7, 4, 16))
    assert_close(run(data, *args)[0], reference(model, *args)[0])


@requires_torch
def test_same_outputs_as_torch_onnx_export_of_the_same_weights():
    import torch

    class TorchClassifier(torch.nn.Module):
        def __init__(self):
            super().__init__()
            self.lstm = torch.nn.LSTM(4, 8, batch_first=True)
            self.head = torch.nn.Linear(8, 3)

        def forward(self, x):
            return self.head(self.lstm(x)[0])

    class Classifier(nn.Module):
        def __init__(self):
            super().__init__()
            self.lstm = nn.LSTM(4, 8, batch_first=True)
            self.head = nn.Linear(8, 3)

        def forward(self, x):
            return self.head(self.lstm(x)[0])

    theirs, ours = TorchClassifier().eval(), Classifier().eval()
    ours.load_state_dict({k: v.detach().numpy() for k, v in theirs.state_dict().items()})
    x = axonic.randn(2, 5, 4)
    buf = io.BytesIO()
    torch.onnx.export(theirs, (torch.from_numpy(x.numpy()),), buf, dynamo=False,
                      input_names=["x"], dynamic_axes={"x": {0: "batch"}})
    data = export_bytes(ours, (x,), ["x"], {0: "batch"})
    x7 = axonic.randn(7, 5, 4)
    assert_close(run(data, x7)[0], run(buf.getvalue(), x7)[0])
    assert op_types(data).count("LSTM") == op_types(buf.getvalue()).count("LSTM") == 1
