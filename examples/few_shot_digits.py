"""Few-shot learning on handwritten digits with a prototypical network and with MAML:
train on episodes of the digits 0-4 only, then classify the never-seen digits 5-9 from
one or five labelled examples each (5-way 1-shot and 5-shot).

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
from axonic.nn.maml import MAML

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


def maml_fit_and_evaluate(data, labels, episodes=300, test_episodes=200, inner_steps=2,
                          seed=0):
    """Meta-train an MLP with MAML on 5-shot episodes of digits 0-4; returns the query
    accuracy on 5-9 after adapting to each test episode's support set."""
    maml = MAML(nn.Sequential(nn.Linear(64, 64), nn.ReLU(), nn.Linear(64, N_WAY)), lr=0.5)
    optimizer = optim.Adam(maml.parameters(), lr=3e-3)

    def adapted(x, k_shot):
        support_y = axonic.tensor(episode_labels(N_WAY, k_shot, N_QUERY)[0])
        fast = None
        for _ in range(inner_steps):
            loss = nn.functional.cross_entropy(maml(x[:N_WAY * k_shot], params=fast), support_y)
            fast = maml.adapt(loss, fast)
        return maml(x[N_WAY * k_shot:], params=fast)

    query_y = axonic.tensor(episode_labels(N_WAY, 5, N_QUERY)[1])
    for x, _ in _episodes(data, labels, range(5), 5, episodes, seed):
        loss = nn.functional.cross_entropy(adapted(x, 5), query_y)
        optimizer.zero_grad()
        loss.backward()
        optimizer.step()
    results = {}
    for k_shot in (1, 5):
        target = episode_labels(N_WAY, k_shot, N_QUERY)[1]
        accs = [(adapted(x, k_shot).argmax(1).numpy() == target).mean()
                for x, _ in _episodes(data, labels, range(5, 10), k_shot, test_episodes, 1)]
        results[k_shot] = float(np.mean(accs))
    return results


def main(episodes: int = 200, seed: int = 0, test_episodes: int = 200,
         maml_episodes: int = 300) -> dict:
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
    results = {"protonet": {}, "maml": maml_fit_and_evaluate(
        digits, labels, maml_episodes, test_episodes, seed=seed)}
    for k_shot in (1, 5):
        acc, raw = evaluate(net, digits, labels, k_shot, test_episodes)
        results["protonet"][k_shot] = acc
        print(f"5-way {k_shot}-shot on unseen digits 5-9: prototypical network {acc:.4f}, "
              f"MAML {results['maml'][k_shot]:.4f} (raw-pixel prototypes {raw:.4f}, "
              f"chance 0.2000)")
    return results


if __name__ == "__main__":
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--episodes", type=int, default=200)
    main(parser.parse_args().episodes)
