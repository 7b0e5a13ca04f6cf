"""``BertTokenizer``: BERT's WordPiece tokenizer from its ``vocab.txt``, with the rules of
Hugging Face's (fast) BERT tokenizer: text cleaning, CJK characters split apart, accents
stripped and lower-casing for uncased models, splitting on whitespace and punctuation,
then greedy longest-match-first WordPiece with ``##`` continuation pieces."""

from __future__ import annotations

import os
import unicodedata

import numpy as np

_CJK = ((0x4E00, 0x9FFF), (0x3400, 0x4DBF), (0x20000, 0x2A6DF), (0x2A700, 0x2B73F),
        (0x2B740, 0x2B81F), (0x2B820, 0x2CEAF), (0xF900, 0xFAFF), (0x2F800, 0x2FA1F))


def _is_whitespace(ch: str) -> bool:
    return ch in " \t\n\r" or ch.isspace() or unicodedata.category(ch) == "Zs"


def _is_control(ch: str) -> bool:
    return ch not in "\t\n\r" and unicodedata.category(ch).startswith("C")


def _is_punctuation(ch: str) -> bool:
    cp = ord(ch)
    if 33 <= cp <= 47 or 58 <= cp <= 64 or 91 <= cp <= 96 or 123 <= cp <= 126:
        return True
    return unicodedata.category(ch).startswith("P")


def _is_cjk(ch: str) -> bool:
    cp = ord(ch)
    return any(lo <= cp <= hi for lo, hi in _CJK)


class BertTokenizer:
    """Text to BERT token ids. ``tokenizer(texts)`` returns a dict of int64 arrays
    ``input_ids``, ``attention_mask`` and ``token_type_ids``, each ``[CLS] ... [SEP]``,
    padded to the longest text (``padding=True``) and cut to ``max_length``.

    >>> tok = BertTokenizer(["[PAD]", "[UNK]", "[CLS]", "[SEP]", "un", "##aff", "##able",
    ...                      "!"])
    >>> tok.tokenize("Unaffable!")
    ['un', '##aff', '##able', '!']
    >>> tok(["Unaffable!"])["input_ids"].tolist()
    [[2, 4, 5, 6, 7, 3]]
    """

    def __init__(self, vocab, do_lower_case: bool = True, strip_accents: bool | None = None,
                 tokenize_chinese_chars: bool = True, unk_token: str = "[UNK]",
                 sep_token: str = "[SEP]", pad_token: str = "[PAD]", cls_token: str = "[CLS]",
                 mask_token: str = "[MASK]", model_max_length: int = 512,
                 max_input_chars_per_word: int = 100):
        if isinstance(vocab, (str, os.PathLike)):
            vocab = self._read_vocab(vocab)
        self.vocab = {tok: i for i, tok in enumerate(vocab)}
        self.ids_to_tokens = list(vocab)
        for name, tok in (("unk_token", unk_token), ("sep_token", sep_token),
                          ("pad_token", pad_token), ("cls_token", cls_token)):
            if tok not in self.vocab:
                raise ValueError(f"BertTokenizer: {name} {tok!r} is not in the vocabulary")
        self.do_lower_case = do_lower_case
        self.strip_accents = do_lower_case if strip_accents is None else strip_accents
        self.tokenize_chinese_chars = tokenize_chinese_chars
        self.unk_token, self.sep_token, self.pad_token = unk_token, sep_token, pad_token
        self.cls_token, self.mask_token = cls_token, mask_token
        self.model_max_length = model_max_length
        self.max_input_chars_per_word = max_input_chars_per_word
        self.special = {t for t in (unk_token, sep_token, pad_token, cls_token, mask_token)
                        if t in self.vocab}

    @staticmethod
    def _read_vocab(path):
        path = os.fspath(path)
        if not os.path.exists(path):
            raise FileNotFoundError(f"BertTokenizer: no vocabulary file {path!r}")
        with open(path, encoding="utf-8") as f:
            return [line.rstrip("\n") for line in f]

    @classmethod
    def from_pretrained(cls, path) -> BertTokenizer:
        """Read ``vocab.txt`` (and ``tokenizer_config.json`` if there) from a directory."""
        import json

        path = os.fspath(path)
        kwargs = {}
        cfg = os.path.join(path, "tokenizer_config.json")
        if os.path.exists(cfg):
            with open(cfg, encoding="utf-8") as f:
                c = json.load(f)
            keys = ("do_lower_case", "strip_accents", "tokenize_chinese_chars", "unk_token",
                    "sep_token", "pad_token", "cls_token", "mask_token", "model_max_length")
            kwargs = {k: c[k] for k in keys if k in c}
        return cls(os.path.join(path, "vocab.txt"), **kwargs)

    def __len__(self) -> int:
        return len(self.ids_to_tokens)

    # --- text to tokens ------------------------------------------------------------------
    def _normalize(self, text: str) -> str:
        out = []
        for ch in text:
            if ch == "\0" or ch == "\ufffd" or _is_control(ch):
                continue
            if _is_whitespace(ch):
                out.append(" ")
            elif self.tokenize_chinese_chars and _is_cjk(ch):
                out.append(f" {ch} ")
            else:
                out.append(ch)
        text = "".join(out)
        if self.strip_accents:
            text = "".join(c for c in unicodedata.normalize("NFD", text)
                           if unicodedata.category(c) != "Mn")
        return text.lower() if self.do_lower_case else text

    def _split_words(self, text: str) -> list[str]:
        words, cur = [], []
        for ch in text:
            if _is_whitespace(ch) or _is_punctuation(ch):
                if cur:
                    words.append("".join(cur))
                    cur = []
                if not _is_whitespace(ch):
                    words.append(ch)
            else:
                cur.append(ch)
        if cur:
            words.append("".join(cur))
        return words

    def _wordpiece(self, word: str) -> list[str]:
        if len(word) > self.max_input_chars_per_word:
            return [self.unk_token]
        pieces, start = [], 0
        while start < len(word):
            end = len(word)
            while end > start:
                piece = word[start:end] if start == 0 else "##" + word[start:end]
                if piece in self.vocab:
                    break
                end -= 1
            else:
                return [self.unk_token]
            pieces.append(piece)
            start = end
        return pieces

    def tokenize(self, text: str) -> list[str]:
        """The WordPiece tokens of ``text`` (no special tokens)."""
        if not isinstance(text, str):
            raise ValueError(f"BertTokenizer: expected a str, got {type(text).__name__}")
        return [p for w in self._split_words(self._normalize(text)) for p in self._wordpiece(w)]

    def convert_tokens_to_ids(self, tokens: list[str]) -> list[int]:
        unk = self.vocab[self.unk_token]
        return [self.vocab.get(t, unk) for t in tokens]

    def encode(self, text: str, max_length: int | None = None) -> list[int]:
        """``[CLS] tokens [SEP]`` ids, the tokens cut so the whole fits ``max_length``."""
        n = (self.model_max_length if max_length is None else max_length) - 2
        if n < 0:
            raise ValueError(f"BertTokenizer: max_length must be at least 2, got {max_length}")
        ids = self.convert_tokens_to_ids(self.tokenize(text))[:n]
        return [self.vocab[self.cls_token], *ids, self.vocab[self.sep_token]]

    def decode(self, ids) -> str:
        """Tokens joined back into text, ``##`` pieces glued on, special tokens dropped."""
        toks = [self.ids_to_tokens[int(i)] for i in ids]
        text = " ".join(t for t in toks if t not in self.special)
        return text.replace(" ##", "")

    def __call__(self, texts, padding: bool = True, truncation: bool = True,
                 max_length: int | None = None) -> dict[str, np.ndarray]:
        if isinstance(texts, str):
            texts = [texts]
        if not texts or not all(isinstance(t, str) for t in texts):
            raise ValueError("BertTokenizer: expected a str or a non-empty list of str, got "
                             f"{type(texts).__name__}")
        limit = max_length if truncation else 10 ** 9
        seqs = [self.encode(t, limit) for t in texts]
        if not padding and len({len(s) for s in seqs}) > 1:
            raise ValueError("BertTokenizer: texts of different lengths need padding=True")
        width = max(len(s) for s in seqs)
        ids = np.full((len(seqs), width), self.vocab[self.pad_token], np.int64)
        mask = np.zeros((len(seqs), width), np.int64)
        for i, s in enumerate(seqs):
            ids[i, :len(s)] = s
            mask[i, :len(s)] = 1
        return {"input_ids": ids, "attention_mask": mask,
                "token_type_ids": np.zeros_like(ids)}
