"""Train ``axonic.models.GPT`` as a character-level language model on a short
public-domain text, then sample from it with ``generate`` (greedy, and with temperature
and top-k).

    python examples/gpt_generate.py
"""

import sys
from pathlib import Path

import axonic
from axonic import optim
from axonic.data import DataLoader
from axonic.data.datasets.text import CharCorpus
from axonic.models import GPT, GPTConfig

sys.path.insert(0, str(Path(__file__).parent))
from _text import TEXT  # noqa: E402


def main(steps: int = 300) -> list[float]:
    axonic.manual_seed(0)
    corpus = CharCorpus(TEXT, seq_len=48, stride=3)
    loader = DataLoader(corpus, batch_size=32, shuffle=True, seed=0)
    model = GPT(GPTConfig(block_size=48, vocab_size=corpus.vocab_size, n_layer=2, n_head=4,
                          n_embd=64))
    opt = optim.AdamW(model.parameters(), lr=3e-3, weight_decay=0.01)
    losses, epoch = [], 0
    while len(losses) < steps:
        loader.set_epoch(epoch)
        for x, y in loader:
            _, loss = model(x, targets=y)
            opt.zero_grad()
            loss.backward()
            opt.step()
            losses.append(loss.item())
            if len(losses) % 50 == 0 or len(losses) == steps:
                print(f"step {len(losses):4d}  loss {sum(losses[-50:]) / len(losses[-50:]):.3f}")
            if len(losses) == steps:
                break
        epoch += 1
    model.eval()
    prompt = axonic.tensor([list(corpus.encode("The rights of "))])
    greedy = model.generate(prompt, 60, top_k=1)
    sampled = model.generate(prompt, 60, temperature=0.8, top_k=5)
    print("greedy: ", repr(corpus.decode(greedy[0].tolist())))
    print("sampled:", repr(corpus.decode(sampled[0].tolist())))
    return losses


if __name__ == "__main__":
    main()
