"""Train a character-level LSTM language model on a short public-domain text.

    python examples/train_lstm.py [--steps 300]

Shows Embedding -> LSTM -> Linear, cross-entropy over every position, gradient clipping
and Adam; prints a falling loss and a sample generated greedily from the model.
"""

import argparse
import sys
from pathlib import Path

import axonic
from axonic import nn, optim
from axonic.data import DataLoader
from axonic.data.datasets.text import CharCorpus

sys.path.insert(0, str(Path(__file__).parent))
from _text import TEXT  # noqa: E402


class CharLSTM(nn.Module):
    def __init__(self, vocab: int, embed: int = 32, hidden: int = 128):
        super().__init__()
        self.embed = nn.Embedding(vocab, embed)
        self.lstm = nn.LSTM(embed, hidden, batch_first=True)
        self.head = nn.Linear(hidden, vocab)

    def forward(self, tokens, state=None):
        out, state = self.lstm(self.embed(tokens), state)
        return self.head(out), state


def generate(model, corpus, prompt: str, length: int = 60) -> str:
    model.eval()
    tokens = axonic.tensor([corpus.encode(prompt)])
    text, state = prompt, None
    with axonic.no_grad():
        for _ in range(length):
            logits, state = model(tokens, state)
            nxt = int(logits[0, -1].argmax())
            text += corpus.decode([nxt])
            tokens = axonic.tensor([[nxt]])
    model.train()
    return text


def main(steps: int = 300) -> list[float]:
    axonic.manual_seed(0)
    corpus = CharCorpus(TEXT, seq_len=48, stride=3)
    loader = DataLoader(corpus, batch_size=32, shuffle=True, seed=0)
    model = CharLSTM(len(corpus.itos))
    optimizer = optim.Adam(model.parameters(), lr=5e-3)
    loss_fn = nn.CrossEntropyLoss()

    losses, step, epoch = [], 0, 0
    while step < steps:
        loader.set_epoch(epoch)
        for inputs, targets in loader:
            logits, _ = model(inputs)
            loss = loss_fn(logits.reshape(-1, logits.shape[-1]), targets.reshape(-1))
            optimizer.zero_grad()
            loss.backward()
            nn.utils.clip_grad_norm_(model.parameters(), 1.0)
            optimizer.step()
            losses.append(loss.item())
            step += 1
            if step % 50 == 0 or step == steps:
                print(f"step {step:4d}  loss {sum(losses[-50:]) / len(losses[-50:]):.4f}")
            if step == steps:
                break
        epoch += 1
    print("sample:", repr(generate(model, corpus, "The rights of ")))
    return losses


if __name__ == "__main__":
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--steps", type=int, default=300)
    main(parser.parse_args().steps)
