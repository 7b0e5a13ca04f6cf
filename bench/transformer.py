"""Benchmark: training a small GPT-style Transformer (token and position embeddings, 2 pre-norm
encoder layers with a causal mask, d=128, 4 heads, feed-forward 512, final LayerNorm, linear
head; batch 32, sequence 64, cross-entropy over all positions, Adam), axonic against PyTorch
on the same weights and data. Dropout is 0 so that both compute exactly the same function.

    python bench/transformer.py --threads 1      # or --threads 2, --quick, --profile, --json

>>> from bench.transformer import WORKLOAD
>>> WORKLOAD.samples
32
"""

import sys
from pathlib import Path

import numpy as np

if __package__ in (None, ""):  # run as a script: make ``bench`` importable
    sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from bench.common import Workload, training_main


def build(fw, nn, vocab=65, d=128, heads=4, ff=512, layers=2, seq=64):
    """The model, in either framework; its output is (batch * seq, vocab) logits."""

    class TinyGPT(nn.Module):
        def __init__(self):
            super().__init__()
            self.tokens = nn.Embedding(vocab, d)
            self.positions = nn.Embedding(seq, d)
            self.blocks = nn.ModuleList([
                nn.TransformerEncoderLayer(d, heads, dim_feedforward=ff, dropout=0.0,
                                           batch_first=True, norm_first=True)
                for _ in range(layers)])
            self.norm = nn.LayerNorm(d)
            self.head = nn.Linear(d, vocab)

        def forward(self, tokens, positions, mask):
            h = self.tokens(tokens) + self.positions(positions)
            for block in self.blocks:
                h = block(h, src_mask=mask)
            return self.head(self.norm(h)).reshape(-1, vocab)

    return TinyGPT()


def batch(rng, batch_size, vocab=65, d=128, heads=4, ff=512, layers=2, seq=64):
    """Random token sequences, the positions 0..seq-1 and the causal mask (True = masked);
    the target at each position is the next token."""
    text = rng.integers(0, vocab, (batch_size, seq + 1))
    positions = np.arange(seq)
    mask = np.triu(np.ones((seq, seq), dtype=bool), k=1)
    return [text[:, :-1].copy(), positions, mask], text[:, 1:].reshape(-1).copy()


WORKLOAD = Workload("Transformer (2 pre-norm layers, d=128) training, batch 32 x seq 64",
                    build, batch, samples=32)

if __name__ == "__main__":
    training_main(WORKLOAD, __doc__.splitlines()[0])
