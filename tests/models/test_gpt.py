"""GPT against the same architecture written in torch.nn (nanoGPT's module names):
state_dict keys, logits, loss and parameter gradients; generate()'s sampling rules."""

import math

import numpy as np
import pytest
import torch
from torch import nn
from torch.nn import functional as tF

import axonic
from axonic.models import GPT, GPTConfig

from .helpers import assert_param_grads_close, assert_same_keys_and_shapes, to_axonic

CFG = dict(block_size=16, vocab_size=23, n_layer=2, n_head=4, n_embd=32)


class TorchBlock(nn.Module):
    def __init__(self, c):
        super().__init__()
        self.ln_1 = nn.LayerNorm(c.n_embd, bias=c.bias)
        self.attn = nn.Module()
        self.attn.c_attn = nn.Linear(c.n_embd, 3 * c.n_embd, bias=c.bias)
        self.attn.c_proj = nn.Linear(c.n_embd, c.n_embd, bias=c.bias)
        self.ln_2 = nn.LayerNorm(c.n_embd, bias=c.bias)
        self.mlp = nn.Module()
        self.mlp.c_fc = nn.Linear(c.n_embd, 4 * c.n_embd, bias=c.bias)
        self.mlp.c_proj = nn.Linear(4 * c.n_embd, c.n_embd, bias=c.bias)
        self.h = c.n_head

    def forward(self, x):
        B, T, C = x.shape
        q, k, v = self.attn.c_attn(self.ln_1(x)).split(C, dim=2)
        q, k, v = (t.view(B, T, self.h, C // self.h).transpose(1, 2) for t in (q, k, v))
        y = tF.scaled_dot_product_attention(q, k, v, is_causal=True)
        x = x + self.attn.c_proj(y.transpose(1, 2).reshape(B, T, C))
        return x + self.mlp.c_proj(tF.gelu(self.mlp.c_fc(self.ln_2(x))))


class TorchGPT(nn.Module):
    def __init__(self, c):
        super().__init__()
        self.transformer = nn.ModuleDict(dict(
            wte=nn.Embedding(c.vocab_size, c.n_embd), wpe=nn.Embedding(c.block_size, c.n_embd),
            drop=nn.Dropout(0.0), h=nn.ModuleList([TorchBlock(c) for _ in range(c.n_layer)]),
            ln_f=nn.LayerNorm(c.n_embd, bias=c.bias)))
        self.lm_head = nn.Linear(c.n_embd, c.vocab_size, bias=False)
        self.transformer.wte.weight = self.lm_head.weight

    def forward(self, idx, targets):
        x = self.transformer.wte(idx) + self.transformer.wpe(torch.arange(idx.shape[1]))
        for b in self.transformer.h:
            x = b(x)
        logits = self.lm_head(self.transformer.ln_f(x))
        return logits, tF.cross_entropy(logits.flatten(0, 1), targets.flatten())


@pytest.mark.parametrize("bias", [True, False])
def test_gpt_matches_torch_logits_loss_and_gradients(bias):
    cfg = GPTConfig(**CFG, bias=bias)
    torch.manual_seed(0)
    ref = TorchGPT(cfg)
    model = GPT(cfg)
    assert_same_keys_and_shapes(ref, model)
    to_axonic(ref, model)
    assert model.transformer.wte.weight is model.lm_head.weight  # still tied after loading
    idx = np.random.default_rng(0).integers(0, 23, (3, 16))
    tgt = np.random.default_rng(1).integers(0, 23, (3, 16))
    tl, tloss = ref(torch.tensor(idx), torch.tensor(tgt))
    al, aloss = model(axonic.tensor(idx), axonic.tensor(tgt))
    np.testing.assert_allclose(al.detach().numpy(), tl.detach().numpy(), rtol=1e-4, atol=1e-5)
    assert aloss.item() == pytest.approx(tloss.item(), rel=1e-5)
    tloss.backward()
    aloss.backward()
    assert_param_grads_close(ref, model, rtol=1e-3, atol=1e-6)


def test_gpt_initialisation_scales_residual_projections():
    model = GPT(GPTConfig(**{**CFG, "n_embd": 64, "n_layer": 8}))
    std = model.transformer.h[0].attn.c_proj.weight.detach().numpy().std()
    assert std == pytest.approx(0.02 / math.sqrt(16), rel=0.1)
    assert model.lm_head.weight.detach().numpy().std() == pytest.approx(0.02, rel=0.1)


def test_gpt_generate_top_k_1_is_greedy_decoding():
    torch.manual_seed(0)
    cfg = GPTConfig(**CFG)
    ref = TorchGPT(cfg)
    model = to_axonic(ref, GPT(cfg))
    out = model.generate(axonic.tensor([[1, 2, 3], [4, 5, 6]]), max_new_tokens=20, top_k=1)
    seq = torch.tensor([[1, 2, 3], [4, 5, 6]])
    with torch.no_grad():
        for _ in range(20):
            ctx = seq[:, -cfg.block_size:]
            logits, _ = ref(ctx, torch.zeros_like(ctx))
            seq = torch.cat([seq, logits[:, -1].argmax(-1, keepdim=True)], 1)
    assert out.tolist() == seq.tolist()  # 23 tokens: the context was cropped to block_size


def test_gpt_generate_samples_only_among_the_top_k():
    model = GPT(GPTConfig(**CFG))
    start = axonic.tensor([[7]])
    with axonic.no_grad():
        logits, _ = model(start)
    allowed = set(np.argsort(logits.numpy()[0, -1])[-3:].tolist())
    g = axonic.backend.random.Generator().manual_seed(0)
    firsts = {model.generate(start, 1, temperature=5.0, top_k=3, generator=g).tolist()[0][1]
              for _ in range(40)}
    assert firsts == allowed  # every allowed token is drawn at a high temperature, no other


def test_gpt_generate_low_temperature_concentrates_on_the_argmax():
    model = GPT(GPTConfig(**CFG))
    start = axonic.tensor([[3, 9]])
    greedy = model.generate(start, 1, top_k=1).tolist()[0][2]
    g = axonic.backend.random.Generator().manual_seed(1)
    draws = [model.generate(start, 1, temperature=1e-3, generator=g).tolist()[0][2]
             for _ in range(10)]
    assert draws == [greedy] * 10
    hot = {model.generate(start, 1, temperature=100.0, generator=g).tolist()[0][2]
           for _ in range(30)}
    assert len(hot) > 10  # near-uniform over 23 tokens


def test_gpt_learns_to_continue_a_repeating_sequence():
    axonic.manual_seed(0)
    model = GPT(GPTConfig(block_size=8, vocab_size=5, n_layer=1, n_head=2, n_embd=16))
    seq = np.tile(np.arange(5), 4)
    x, y = axonic.tensor(seq[None, :8]), axonic.tensor(seq[None, 1:9])
    opt = axonic.optim.AdamW(model.parameters(), lr=1e-2)
    for _ in range(60):
        _, loss = model(x, y)
        opt.zero_grad()
        loss.backward()
        opt.step()
    assert loss.item() < 0.05
    out = model.generate(axonic.tensor([[0, 1]]), 6, top_k=1)
    assert out.tolist() == [[0, 1, 2, 3, 4, 0, 1, 2]]


def test_gpt_errors_name_the_bad_input():
    with pytest.raises(ValueError, match="GPTConfig: n_embd must be divisible by n_head, got "
                                         "n_embd=10 and n_head=3"):
        GPTConfig(n_embd=10, n_head=3)
    with pytest.raises(ValueError, match="GPT: config must be a GPTConfig, got dict"):
        GPT(CFG)
    model = GPT(GPTConfig(**CFG))
    with pytest.raises(ValueError, match="cannot forward a sequence of length 17: block_size "
                                         "is 16"):
        model(axonic.zeros(1, 17, dtype=axonic.int64))
    with pytest.raises(ValueError, match=r"expected integer token ids of shape \(B, T\), got "
                                         r"shape \(3,\)"):
        model(axonic.tensor([1, 2, 3]))
    with pytest.raises(ValueError, match="GPT.generate: temperature must be > 0, got 0"):
        model.generate(axonic.tensor([[1]]), 2, temperature=0)
    with pytest.raises(ValueError, match="GPT.generate: top_k must be None or a positive int, "
                                         "got 0"):
        model.generate(axonic.tensor([[1]]), 2, top_k=0)
    with pytest.raises(ValueError, match="GPT.generate: max_new_tokens must be a non-negative "
                                         "int, got -1"):
        model.generate(axonic.tensor([[1]]), -1)
