"""Few-shot learning on handwritten digits with a prototypical network: train on
episodes of the digits 0-4 only, then classify the never-seen digits 5-9 from one or
five labelled examples each (5-way 1-shot and 5-shot).

    python examples/few_shot_digits.py [--episodes 200]

Prints the accuracy on unseen classes next to chance (0.2) and next to prototypes of the
raw pixels (no learning).
"""

import argparse

import numpy as np

import axonic
from axonic import nn, optim
from axonic.data import DataLoader, get_dataset
from axonic.data.episodic import EpisodicSampler, episode_labels
from axonic.nn.few_shot import PrototypicalNetwork, prototypes, prototypical_logits

N_WAY, N_QUERY = 5, 10


def _episodes(data, labels, classes, k_shot, episodes, seed):
    sampler = EpisodicSampler(labels, N_WAY, k_shot, N_QUERY, episodes, classes, seed)
    return DataLoader(data, batch_sampler=sampler)


def evaluate(net, data, labels, k_shot, episodes=200, seed=1):
    """Mean query accuracy over episodes of the unseen digits 5-9."""
    _, query_y = episode_labels(N_WAY, k_shot, N_QUERY)
    accs, raw = [], []
    net.eval()
    with axonic.no_grad():
        for x, _ in _episodes(data, labels, range(5, 10), k_shot, episodes, seed):
            support, query = x[:N_WAY * k_shot], x[N_WAY * k_shot:]
            pred = net(support, query, N_WAY, k_shot).argmax(1).numpy()
            accs.append((pred == query_y).mean())
            pixels = prototypical_logits(query, prototypes(support, N_WAY, k_shot))
            raw.append((pixels.argmax(1).numpy() == query_y).mean())
    return float(np.mean(accs)), float(np.mean(raw))


def main(episodes: int = 200, seed: int = 0, test_episodes: int = 200) -> dict:
    axonic.manual_seed(seed)
    digits = get_dataset("digits")
    labels = digits.tensors[1].numpy()
    net = PrototypicalNetwork(nn.Sequential(  # a small CNN on the 8x8 images
        nn.Unflatten(1, (1, 8, 8)), nn.Conv2d(1, 32, 3, padding=1), nn.ReLU(), nn.MaxPool2d(2),
        nn.Conv2d(32, 64, 3, padding=1), nn.ReLU(), nn.MaxPool2d(2), nn.Flatten()))
    optimizer = optim.Adam(net.parameters(), lr=1e-3)
    _, query_y = episode_labels(N_WAY, 5, N_QUERY)
    target = axonic.tensor(query_y)
    for step, (x, _) in enumerate(_episodes(digits, labels, range(5), 5, episodes, seed), 1):
        logits = net(x[:N_WAY * 5], x[N_WAY * 5:], N_WAY, 5)
        loss = nn.functional.cross_entropy(logits, target)
        optimizer.zero_grad()
        loss.backward()
        optimizer.step()
        if step % 100 == 0:
            print(f"episode {step:4d}  loss {loss.item():.4f}  (digits 0-4)")
    results = {}
    for k_shot in (1, 5):
        acc, raw = evaluate(net, digits, labels, k_shot, test_episodes)
        results[k_shot] = acc
        print(f"5-way {k_shot}-shot on unseen digits 5-9: accuracy {acc:.4f} "
              f"(raw-pixel prototypes {raw:.4f}, chance 0.2000)")
    return results


if __name__ == "__main__":
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--episodes", type=int, default=200)
    main(parser.parse_args().episodes)
