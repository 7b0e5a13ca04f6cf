"""Train a small GPT-style Transformer (causal self-attention) on a short public-domain text.

    python examples/train_transformer.py [--steps 300]

Shows token and position embeddings, a pre-norm TransformerEncoder with a causal mask,
AdamW with a OneCycle schedule; prints a falling loss and a greedy sample.
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


class TinyGPT(nn.Module):
    def __init__(self, vocab: int, context: int, d_model: int = 64, heads: int = 4,
                 layers: int = 2):
        super().__init__()
        self.tokens = nn.Embedding(vocab, d_model)
        self.positions = nn.Embedding(context, d_model)
        layer = nn.TransformerEncoderLayer(d_model, heads, dim_feedforward=4 * d_model,
                                           dropout=0.0, batch_first=True, norm_first=True)
        self.blocks = nn.TransformerEncoder(layer, layers, norm=nn.LayerNorm(d_model))
        self.head = nn.Linear(d_model, vocab)

    def forward(self, tokens):
        n = tokens.shape[1]
        x = self.tokens(tokens) + self.positions(axonic.arange(n))
        mask = nn.Transformer.generate_square_subsequent_mask(n)
        return self.head(self.blocks(x, mask=mask, is_causal=True))


def main(steps: int = 300) -> list[float]:
    axonic.manual_seed(0)
    context = 48
    corpus = CharCorpus(TEXT, seq_len=context, stride=3)
    loader = DataLoader(corpus, batch_size=32, shuffle=True, seed=0)
    model = TinyGPT(len(corpus.itos), context)
    optimizer = optim.AdamW(model.parameters(), lr=3e-3, weight_decay=0.01)
    schedule = optim.lr_scheduler.OneCycleLR(optimizer, max_lr=3e-3, total_steps=steps)
    loss_fn = nn.CrossEntropyLoss()

    losses, step, epoch = [], 0, 0
    while step < steps:
        loader.set_epoch(epoch)
        for inputs, targets in loader:
            logits = model(inputs)
            loss = loss_fn(logits.reshape(-1, logits.shape[-1]), targets.reshape(-1))
            optimizer.zero_grad()
            loss.backward()
            nn.utils.clip_grad_norm_(model.parameters(), 1.0)
            optimizer.step()
            schedule.step()
            losses.append(loss.item())
            step += 1
            if step % 50 == 0 or step == steps:
                print(f"step {step:4d}  loss {sum(losses[-50:]) / len(losses[-50:]):.4f}")
            if step == steps:
                break
        epoch += 1

    model.eval()
    tokens = list(corpus.encode("The rights of "))
    with axonic.no_grad():
        for _ in range(60):
            logits = model(axonic.tensor([tokens[-context:]]))
            tokens.append(int(logits[0, -1].argmax()))
    print("sample:", repr(corpus.decode(tokens)))
    return losses


if __name__ == "__main__":
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--steps", type=int, default=300)
    main(parser.parse_args().steps)
