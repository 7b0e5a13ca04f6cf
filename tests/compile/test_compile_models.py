"""``axonic.compile`` equals eager bit for bit on every benchmark model."""

import warnings

import numpy as np
import pytest
from numpy.testing import assert_array_equal

import axonic
from bench import char_lstm, cnn, mlp, transformer
from bench.inference import MODELS


def _first(out):
    return (out[0] if isinstance(out, tuple) else out).numpy()


def _replayed(model, *inputs):
    """Eager output, then the compiled model's first (recorded) and third (replayed) ones."""
    fast = axonic.compile(model)
    with axonic.no_grad(), warnings.catch_warnings():
        warnings.simplefilter("error")  # a fallback to eager would warn
        eager = _first(model(*inputs))
        first = _first(fast(*inputs))
        fast(*inputs)
        replayed = _first(fast(*inputs))
    plans = fast.__dict__["_compiler"].plans
    assert [type(p).__name__ for p in plans.values()] == ["Plan"]
    return eager, first, replayed


@pytest.mark.parametrize("batch", [1, 32])
@pytest.mark.parametrize("name", sorted(MODELS))
def test_compiled_inference_models_equal_eager_bit_for_bit(name, batch):
    axonic.manual_seed(0)
    model, shape = MODELS[name](axonic)
    model.eval()
    x = axonic.tensor(np.random.default_rng(1).standard_normal((batch, *shape), dtype="float32"))
    eager, first, replayed = _replayed(model, x)
    assert_array_equal(first, eager)
    assert_array_equal(replayed, eager)


@pytest.mark.parametrize("bench", [mlp, cnn, char_lstm, transformer],
                         ids=["mlp", "cnn", "char_lstm", "transformer"])
def test_compiled_training_models_in_eval_mode_equal_eager_bit_for_bit(bench):
    axonic.manual_seed(0)
    model = bench.build(axonic, axonic.nn)
    model.eval()
    inputs, _ = bench.batch(np.random.default_rng(2), 4)
    tensors = [axonic.tensor(a) for a in inputs]
    eager, first, replayed = _replayed(model, *tensors)
    assert_array_equal(first, eager)
    assert_array_equal(replayed, eager)


def test_compiled_resnet18_with_in_place_relu_and_residual_adds_equals_eager():
    from axonic.models import resnet18

    axonic.manual_seed(0)
    model = resnet18(num_classes=10).eval()
    x = axonic.tensor(np.random.default_rng(3).standard_normal((2, 3, 32, 32), dtype="float32"))
    eager, first, replayed = _replayed(model, x)
    assert_array_equal(first, eager)
    assert_array_equal(replayed, eager)


def test_compiled_gpt_equals_eager():
    from axonic.models.gpt import GPT, GPTConfig

    axonic.manual_seed(0)
    model = GPT(GPTConfig(block_size=16, vocab_size=50, n_layer=2, n_head=2, n_embd=32)).eval()
    tokens = axonic.tensor(np.random.default_rng(4).integers(0, 50, (2, 16)))
    eager, first, replayed = _replayed(model, tokens)
    assert_array_equal(replayed, eager)


def test_compiled_bert_with_an_integer_attention_mask_keys_plans_by_the_mask():
    from axonic.models.bert import BertConfig, BertModel

    axonic.manual_seed(0)
    model = BertModel(BertConfig(vocab_size=50, hidden_size=32, num_hidden_layers=2,
                                 num_attention_heads=2, intermediate_size=64,
                                 max_position_embeddings=16)).eval()
    fast = axonic.compile(model)
    rng = np.random.default_rng(5)
    mask = axonic.tensor(np.array([[1] * 8, [1] * 5 + [0] * 3]))
    with axonic.no_grad(), warnings.catch_warnings():
        warnings.simplefilter("error")
        for _ in range(3):  # new tokens each call, the same mask: one plan
            ids = axonic.tensor(rng.integers(1, 50, (2, 8)))
            got, want = fast(ids, mask), model(ids, mask)
            assert type(got) is type(want)
            assert_array_equal(got.last_hidden_state.numpy(), want.last_hidden_state.numpy())
            assert_array_equal(got.pooler_output.numpy(), want.pooler_output.numpy())
    compiler = fast.__dict__["_compiler"]
    assert compiler.valued == {1} and len(compiler.plans) == 1


@pytest.mark.parametrize("conv", ["GCNConv", "GATConv", "SAGEConv"])
def test_compiled_graph_convolutions_on_a_fixed_graph_equal_eager(conv):
    from axonic.nn import graph

    axonic.manual_seed(0)
    layer = getattr(graph, conv)(4, 8).eval()
    fast = axonic.compile(layer)
    edges = axonic.tensor(np.array([[0, 1, 2, 3, 4, 5, 1], [1, 2, 3, 4, 5, 0, 3]]))
    other = axonic.tensor(np.array([[0, 0, 2, 3, 4, 5, 1], [1, 2, 3, 4, 5, 0, 3]]))
    rng = np.random.default_rng(6)
    with axonic.no_grad(), warnings.catch_warnings():
        warnings.simplefilter("error")
        for e in (edges, edges, edges, other, other):
            x = axonic.tensor(rng.standard_normal((6, 4), dtype="float32"))
            assert_array_equal(fast(x, e).numpy(), layer(x, e).numpy())
    assert len(fast.__dict__["_compiler"].plans) == 2
