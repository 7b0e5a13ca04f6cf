"""attention_maps and attention_rollout."""

import numpy as np
import pytest

import axonic
from axonic import nn
from axonic.explain.attention import attention_maps, attention_rollout

torch = pytest.importorskip("torch")


class _OneAttention(nn.Module):
    def __init__(self):
        super().__init__()
        self.attn = nn.MultiheadAttention(8, 2, batch_first=True)

    def forward(self, x):
        return self.attn(x, x, x, need_weights=False)[0]


def test_attention_maps_match_torch_per_head_weights():
    torch.manual_seed(0)
    theirs = torch.nn.MultiheadAttention(8, 2, batch_first=True).double()
    ours = _OneAttention().double()
    ours.attn.load_state_dict({k: v.detach().numpy() for k, v in theirs.state_dict().items()})
    x = np.random.default_rng(0).normal(size=(3, 5, 8))
    maps = attention_maps(ours, axonic.tensor(x))
    tx = torch.tensor(x)
    _, want = theirs(tx, tx, tx, need_weights=True, average_attn_weights=False)
    assert list(maps) == ["attn"]
    assert maps["attn"].shape == (3, 2, 5, 5)
    assert np.allclose(maps["attn"].numpy(), want.detach().numpy(), atol=1e-12)


def test_attention_maps_cover_every_encoder_layer_and_leave_the_output_unchanged():
    axonic.manual_seed(0)
    layer = nn.TransformerEncoderLayer(8, 4, 16, dropout=0.0, batch_first=True)
    model = nn.TransformerEncoder(layer, 3).eval()
    x = axonic.randn(2, 6, 8)
    before = model(x).detach().numpy()
    maps = attention_maps(model, x)
    assert list(maps) == [f"layers.{i}.self_attn" for i in range(3)]
    for w in maps.values():
        assert w.shape == (2, 4, 6, 6)
        assert np.allclose(w.numpy().sum(axis=-1), 1.0, atol=1e-5)
    assert np.array_equal(model(x).detach().numpy(), before)
    assert "forward" not in vars(model.layers[0].self_attn)


def test_attention_rollout_multiplies_residual_normalised_layers():
    rng = np.random.default_rng(0)
    w = rng.random((2, 1, 2, 4, 4))
    w /= w.sum(axis=-1, keepdims=True)
    got = attention_rollout([w[0], w[1]]).numpy()
    a = [0.5 * x.mean(axis=1) + 0.5 * np.eye(4) for x in (w[0], w[1])]
    assert np.allclose(got, a[1] @ a[0])
    assert np.allclose(got.sum(axis=-1), 1.0)


def test_attention_errors_name_the_problem():
    with pytest.raises(ValueError, match="Linear has no MultiheadAttention"):
        attention_maps(nn.Linear(2, 2), axonic.randn(1, 2))
    with pytest.raises(ValueError, match="head_fusion must be 'mean', 'max' or 'min', got 'sum'"):
        attention_rollout({"a": np.ones((1, 1, 2, 2))}, head_fusion="sum")
    with pytest.raises(ValueError, match=r"needs self-attention maps \(L == S\)"):
        attention_rollout([np.ones((1, 1, 2, 3))])
