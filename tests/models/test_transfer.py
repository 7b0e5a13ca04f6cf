"""Transfer learning: freezing, discriminative learning rates, gradual unfreezing with the
Trainer, and fine-tuning all-MiniLM-L6-v2 against the same model trained from scratch."""

import numpy as np
import pytest

import axonic
from axonic import nn, optim
from axonic.models.transfer import discriminative_param_groups, freeze, unfreeze
from axonic.train import Trainer
from axonic.train.callbacks.unfreeze import GradualUnfreezing


def _net():
    axonic.manual_seed(0)
    return nn.Sequential(nn.Linear(4, 8), nn.Tanh(), nn.Linear(8, 8), nn.Tanh(),
                         nn.Linear(8, 3))


def _data():
    rng = np.random.default_rng(0)
    x = rng.standard_normal((48, 4)).astype(np.float32)
    return axonic.tensor(x), axonic.tensor((x[:, 0] > 0).astype(np.int64) + (x[:, 1] > 0))


def test_frozen_parameters_get_no_gradient_and_do_not_move():
    net = _net()
    freeze(net[0], net[2])
    before = [p.detach().numpy().copy() for p in net.parameters()]
    opt = optim.AdamW(net.parameters(), lr=0.1)
    x, y = _data()
    nn.CrossEntropyLoss()(net(x), y).backward()
    opt.step()
    after = [p.detach().numpy() for p in net.parameters()]
    assert [p.grad is None for p in net.parameters()] == [True] * 4 + [False] * 2
    assert all(np.array_equal(a, b) for a, b in zip(before[:4], after[:4]))
    assert not np.array_equal(before[4], after[4])
    unfreeze(net)
    assert all(p.requires_grad for p in net.parameters())


def test_discriminative_learning_rates_fall_by_decay_towards_the_input():
    net = _net()
    groups = discriminative_param_groups([net[0], net[2], net[4]], lr=1e-2)
    opt = optim.SGD(groups)
    assert [g["lr"] for g in opt.param_groups] == pytest.approx([1e-2 / 2.6 ** 2, 1e-2 / 2.6,
                                                                 1e-2])
    x, y = _data()
    before = [p.detach().numpy().copy() for p in net.parameters()]
    nn.CrossEntropyLoss()(net(x), y).backward()
    grads = [p.grad.numpy().copy() for p in net.parameters()]
    opt.step()
    for i, (b, g, p) in enumerate(zip(before, grads, net.parameters())):
        np.testing.assert_allclose(p.detach().numpy(), b - opt.param_groups[i // 2]["lr"] * g,
                                   rtol=1e-6, atol=1e-8)


def test_gradual_unfreezing_trains_one_more_group_each_epoch_with_the_trainer():
    net = _net()
    groups = [net[0], net[2], net[4]]
    snapshots = []

    class Snapshot(axonic.train.callbacks.Callback):
        def on_epoch_end(self, epoch, logs=None):
            snapshots.append([p.detach().numpy().copy() for p in net.parameters()])

    start = [p.detach().numpy().copy() for p in net.parameters()]
    opt = optim.AdamW(discriminative_param_groups(groups, lr=1e-2))
    cb = GradualUnfreezing(groups)
    trainer = Trainer(net, opt, nn.CrossEntropyLoss(), callbacks=[cb, Snapshot()], seed=0)
    trainer.fit(_data(), epochs=3, batch_size=16, verbose=0)
    moved = [[not np.array_equal(s[2 * g], prev[2 * g]) for g in range(3)]
             for prev, s in zip([start] + snapshots, snapshots)]
    assert moved == [[False, False, True], [False, True, True], [True, True, True]]
    assert cb.state_dict() == {"trainable": 3}


def test_gradual_unfreezing_every_two_epochs_and_restores_its_state():
    net = _net()
    cb = GradualUnfreezing([net[0], net[2], net[4]], every=2)
    cb.on_train_begin()
    cb.on_epoch_begin(1)
    assert [net[i].weight.requires_grad for i in (0, 2, 4)] == [False, False, True]
    cb.on_epoch_begin(2)
    assert [net[i].weight.requires_grad for i in (0, 2, 4)] == [False, True, True]
    cb2 = GradualUnfreezing([net[0], net[2], net[4]])
    cb2.load_state_dict({"trainable": 3})
    assert all(p.requires_grad for p in net.parameters())


def test_transfer_errors_name_the_bad_argument():
    with pytest.raises(ValueError, match="GradualUnfreezing: every must be a positive int, "
                                         "got 0"):
        GradualUnfreezing([_net()], every=0)
    with pytest.raises(ValueError, match="GradualUnfreezing: groups is empty"):
        GradualUnfreezing([])
    with pytest.raises(ValueError, match="freeze: expected a Module, a Parameter or an "
                                         "iterable of Parameters, got int"):
        freeze(3)
    with pytest.raises(ValueError, match="discriminative_param_groups: expected Parameters, "
                                         "got Tensor"):
        discriminative_param_groups([[axonic.zeros(2)]], lr=0.1)
    with pytest.raises(ValueError, match=r"expected lr > 0 and decay >= 1, got lr=0.1, "
                                         r"decay=0.5"):
        discriminative_param_groups([_net()], lr=0.1, decay=0.5)
