"""Episodic sampling and prototypical networks; the digits example on unseen classes."""

import importlib.util
from pathlib import Path

import numpy as np
import pytest

import axonic
from axonic import nn
from axonic.data import DataLoader, TensorDataset
from axonic.data.episodic import EpisodicSampler, episode_labels
from axonic.nn.few_shot import PrototypicalNetwork, prototypes, prototypical_logits
from tests.conftest import torch

LABELS = np.repeat(np.arange(10), 12)


def test_episodes_have_n_way_classes_k_shot_support_and_n_query_query_each():
    sampler = EpisodicSampler(LABELS, n_way=5, k_shot=2, n_query=3, episodes=20, seed=0)
    support_y, query_y = episode_labels(5, 2, 3)
    for batch in sampler:
        assert len(batch) == len(set(batch)) == 25  # no sample twice in an episode
        support, query = LABELS[batch[:10]], LABELS[batch[10:]]
        classes = support[::2]
        assert len(set(classes)) == 5
        np.testing.assert_array_equal(support, classes[support_y])
        np.testing.assert_array_equal(query, classes[query_y])


def test_episodes_use_only_the_given_classes_and_repeat_by_seed():
    a = list(EpisodicSampler(LABELS, 3, 1, 2, episodes=30, classes=range(5, 10), seed=4))
    b = list(EpisodicSampler(LABELS, 3, 1, 2, episodes=30, classes=range(5, 10), seed=4))
    assert a == b
    assert set(LABELS[np.concatenate(a)]) == set(range(5, 10))


def test_episodic_sampler_drives_a_dataloader():
    data = TensorDataset(np.arange(120, dtype=np.float32)[:, None], LABELS)
    loader = DataLoader(data, batch_sampler=EpisodicSampler(LABELS, 4, 3, 2, episodes=2))
    shapes = [(tuple(x.shape), tuple(y.shape)) for x, y in loader]
    assert shapes == [((20, 1), (20,))] * 2


@pytest.mark.parametrize("kwargs,message", [
    (dict(n_way=0), "EpisodicSampler: n_way must be a positive integer, got 0"),
    (dict(n_way=11), "EpisodicSampler: n_way=11 but only 10 classes are available"),
    (dict(k_shot=10, n_query=5), "EpisodicSampler: class 0 has 12 samples, an episode needs "
                                 "k_shot + n_query = 15"),
    (dict(episodes=-1), "EpisodicSampler: episodes must be a positive integer, got -1"),
])
def test_episodic_sampler_errors_name_the_argument(kwargs, message):
    args = dict(n_way=5, k_shot=1, n_query=1) | kwargs
    with pytest.raises(ValueError) as e:
        EpisodicSampler(LABELS, **args)
    assert message in str(e.value)


def test_prototypical_logits_match_torch_cdist():
    rng = np.random.default_rng(0)
    s, q = rng.standard_normal((6, 4)), rng.standard_normal((5, 4))
    ours_s, ours_q = (axonic.tensor(a, requires_grad=True) for a in (s, q))
    logits = prototypical_logits(ours_q, prototypes(ours_s, 3, 2))
    ts, tq = (torch.tensor(a, requires_grad=True) for a in (s, q))
    ref = -torch.cdist(tq, ts.reshape(3, 2, 4).mean(1)) ** 2
    np.testing.assert_allclose(logits.detach().numpy(), ref.detach().numpy(), rtol=1e-10)
    target = np.array([0, 1, 2, 1, 0])
    nn.functional.cross_entropy(logits, axonic.tensor(target)).backward()
    torch.nn.functional.cross_entropy(ref, torch.tensor(target)).backward()
    np.testing.assert_allclose(ours_s.grad.numpy(), ts.grad.numpy(), rtol=1e-8, atol=1e-12)
    np.testing.assert_allclose(ours_q.grad.numpy(), tq.grad.numpy(), rtol=1e-8, atol=1e-12)


def test_prototype_errors_give_the_shapes():
    with pytest.raises(ValueError, match=r"prototypes: support must have shape \(n_way \* "
                                         r"k_shot, features\) = \(6, D\), got \(5, 4\)"):
        prototypes(axonic.ones(5, 4), 3, 2)
    with pytest.raises(ValueError, match=r"prototypical_logits: query \(5, 3\) and "
                                         r"prototypes \(2, 4\)"):
        prototypical_logits(axonic.ones(5, 3), axonic.ones(2, 4))


def test_prototypical_network_learns_clusters_it_never_saw():
    # train on 4 gaussian clusters, classify 4 new ones from one shot each
    rng = np.random.default_rng(0)
    centres = rng.standard_normal((8, 10)) * 3
    x = (centres[LABELS[:96] % 8] + rng.standard_normal((96, 10))).astype(np.float32)
    labels = LABELS[:96] % 8
    net = PrototypicalNetwork(nn.Linear(10, 10))
    opt = axonic.optim.Adam(net.parameters(), lr=1e-2)
    target = axonic.tensor(episode_labels(4, 2, 3)[1])
    for batch in EpisodicSampler(labels, 4, 2, 3, episodes=30, classes=range(4), seed=0):
        out = net(axonic.tensor(x[batch[:8]]), axonic.tensor(x[batch[8:]]), 4, 2)
        loss = nn.functional.cross_entropy(out, target)
        opt.zero_grad()
        loss.backward()
        opt.step()
    accs = []
    with axonic.no_grad():
        for batch in EpisodicSampler(labels, 4, 1, 5, episodes=20, classes=range(4, 8)):
            out = net(axonic.tensor(x[batch[:4]]), axonic.tensor(x[batch[4:]]), 4, 1)
            accs.append((out.argmax(1).numpy() == episode_labels(4, 1, 5)[1]).mean())
    assert np.mean(accs) > 0.8


def _example():
    path = Path(__file__).resolve().parents[2] / "examples" / "few_shot_digits.py"
    spec = importlib.util.spec_from_file_location("few_shot_digits", path)
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


def test_few_shot_example_beats_chance_on_unseen_digits(capsys):
    results = _example().main(episodes=10, test_episodes=10, maml_episodes=30)
    assert results["protonet"][5] > 0.4 and results["protonet"][1] > 0.3  # chance is 0.2
    assert results["maml"][5] > 0.25
    assert "5-way 1-shot on unseen digits 5-9" in capsys.readouterr().out


@pytest.mark.slow
def test_few_shot_example_full_run_states_its_accuracies(capsys):
    results = _example().main()
    assert results["protonet"][5] > 0.75 and results["protonet"][1] > 0.55
    assert results["maml"][5] > 0.4 and results["maml"][1] > 0.35
    assert "5-way 5-shot on unseen digits 5-9" in capsys.readouterr().out
