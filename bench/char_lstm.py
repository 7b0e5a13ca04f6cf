"""Benchmark: training a character LSTM (embedding 65->64, LSTM 64->256, linear 256->65,
batch 32, sequence 64, cross-entropy over all positions, Adam), axonic against PyTorch on
the same weights and data. ``--cell gru`` or ``--cell rnn`` times the same model with a
GRU or a tanh RNN in place of the LSTM.

    python bench/char_lstm.py --threads 1      # or --threads 2, --quick, --profile, --json
    python bench/char_lstm.py --threads 1 --alone --cell gru

>>> from bench.char_lstm import WORKLOAD, workload
>>> WORKLOAD.samples, workload("gru").name
(32, 'char-GRU training, batch 32 x seq 64')
"""

import argparse
import sys
from pathlib import Path

if __package__ in (None, ""):  # run as a script: make ``bench`` importable
    sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from bench.common import Workload, training_main

CELLS = {"lstm": "LSTM", "gru": "GRU", "rnn": "RNN"}


def build(fw, nn, vocab=65, embed=64, hidden=256, seq=64, cell="lstm"):
    """The character model, in either framework; its output is (batch * seq, vocab) logits."""

    class CharLSTM(nn.Module):
        def __init__(self):
            super().__init__()
            self.embed = nn.Embedding(vocab, embed)
            self.lstm = getattr(nn, CELLS[cell])(embed, hidden, batch_first=True)
            self.head = nn.Linear(hidden, vocab)

        def forward(self, tokens):
            out, _ = self.lstm(self.embed(tokens))
            return self.head(out).reshape(-1, vocab)

    return CharLSTM()


def batch(rng, batch_size, vocab=65, embed=64, hidden=256, seq=64, cell="lstm"):
    """Random token sequences; the target at each position is the next token."""
    text = rng.integers(0, vocab, (batch_size, seq + 1))
    return [text[:, :-1].copy()], text[:, 1:].reshape(-1).copy()


def workload(cell: str = "lstm") -> Workload:
    """The benchmark with ``cell`` ("lstm", "gru" or "rnn") as its recurrent layer."""
    sizes = {} if cell == "lstm" else {"cell": cell}
    return Workload(f"char-{CELLS[cell]} training, batch 32 x seq 64", build, batch,
                    samples=32, sizes=sizes)


WORKLOAD = workload()

if __name__ == "__main__":
    parser = argparse.ArgumentParser(add_help=False)
    parser.add_argument("--cell", choices=sorted(CELLS), default="lstm")
    known, rest = parser.parse_known_args()
    training_main(workload(known.cell), __doc__.splitlines()[0], rest)
