"""Benchmark: training a character LSTM (embedding 65->64, LSTM 64->256, linear 256->65,
batch 32, sequence 64, cross-entropy over all positions, Adam), axonic against PyTorch on
the same weights and data.

    python bench/char_lstm.py --threads 1      # or --threads 2, --quick, --profile, --json

>>> from bench.char_lstm import WORKLOAD
>>> WORKLOAD.samples
32
"""

import sys
from pathlib import Path

if __package__ in (None, ""):  # run as a script: make ``bench`` importable
    sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from bench.common import Workload, training_main


def build(fw, nn, vocab=65, embed=64, hidden=256, seq=64):
    """The character model, in either framework; its output is (batch * seq, vocab) logits."""

    class CharLSTM(nn.Module):
        def __init__(self):
            super().__init__()
            self.embed = nn.Embedding(vocab, embed)
            self.lstm = nn.LSTM(embed, hidden, batch_first=True)
            self.head = nn.Linear(hidden, vocab)

        def forward(self, tokens):
            out, _ = self.lstm(self.embed(tokens))
            return self.head(out).reshape(-1, vocab)

    return CharLSTM()


def batch(rng, batch_size, vocab=65, embed=64, hidden=256, seq=64):
    """Random token sequences; the target at each position is the next token."""
    text = rng.integers(0, vocab, (batch_size, seq + 1))
    return [text[:, :-1].copy()], text[:, 1:].reshape(-1).copy()


WORKLOAD = Workload("char-LSTM training, batch 32 x seq 64", build, batch, samples=32)

if __name__ == "__main__":
    training_main(WORKLOAD, __doc__.splitlines()[0])
