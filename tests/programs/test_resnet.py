"""The torchvision-style ResNet (BatchNorm, zero_init_residual) and the reference train loop
(SGD nesterov, label smoothing, LinearLR -> CosineAnnealingLR) on both libraries."""

import numpy as np
import pytest

from axonic.compat import run_script
from tests.programs._harness import (
    HERE,
    both,
    close,
    close_buffers,
    close_params,
    copy_weights,
    numpy,
)


def _pair(block, layers, zero_init):
    pt, ax = both("resnet")
    pt.torch.manual_seed(0)
    models = {prog: prog.ResNet(getattr(prog, block), layers, zero_init_residual=zero_init)
              for prog in (pt, ax)}
    copy_weights(models[pt], models[ax])
    return pt, ax, models


def test_zero_init_residual_starts_each_block_as_identity():
    pt, ax, models = _pair("BasicBlock", [1, 1], True)
    for prog, model in models.items():
        assert all(float(m.bn2.weight.detach().abs().sum()) == 0.0
                   for m in model.modules() if isinstance(m, prog.BasicBlock))
    x = np.random.default_rng(0).random((2, 8, 4, 4)).astype(np.float32)
    block = models[ax].layer1[0]
    block.eval()
    out = block(ax.torch.from_numpy(x))
    close(out, np.maximum(x, 0) + 0.0)  # relu(0 + identity)
    # and axonic's own init draws what torchvision asks for: kaiming normal, fan_out
    w = ax.ResNet(ax.BasicBlock, [1, 1], width=32).layer1[0].conv1.weight.detach().numpy()
    fan_out = w.shape[0] * w.shape[2] * w.shape[3]
    std = ax.nn.init.calculate_gain("relu") / np.sqrt(fan_out)
    assert abs(w.std() - std) < 0.1 * std  # 9216 draws: 0.1 is 13 standard errors


def _batches(prog, n, dtype):
    train_loader, val_loader = prog.digits_loaders(batch_size=100, shuffle=False)
    batches = [(x.to(dtype), y) for (x, y), _ in zip(train_loader, range(n))]
    return batches, [(x.to(dtype), y) for x, y in val_loader]


@pytest.mark.parametrize("block", ["BasicBlock", "Bottleneck"])
@pytest.mark.parametrize("zero_init", [True, False], ids=["zero_init", "default_init"])
def test_resnet_training_matches(block, zero_init):
    # float64: six SGD steps at lr 0.1 over images full of exact zeros (ReLU and max-pool
    # ties) make float32 runs of either library part ways with float64 now and then
    pt, ax, models = _pair(block, [1, 1], zero_init)
    losses, evals, lrs = {}, {}, {}
    for prog, model in models.items():
        model.double()
        criterion = prog.nn.CrossEntropyLoss(label_smoothing=0.1)
        optimizer, scheduler = prog.make_optimizer(model, epochs=3)
        batches, val = _batches(prog, 3, prog.torch.float64)
        losses[prog], lrs[prog] = [], []
        for _ in range(2):
            losses[prog] += prog.train_one_epoch(model, criterion, optimizer, batches,
                                                 log=[].append, clip_grad_norm=5.0)
            scheduler.step()
            lrs[prog].append(optimizer.param_groups[0]["lr"])
        evals[prog] = prog.evaluate(model, criterion, val)
    close(losses[ax], losses[pt], rtol=1e-9, what="losses")
    close(lrs[ax], lrs[pt], rtol=1e-12, what="learning rates")
    close_params(models[ax], models[pt], rtol=1e-7, atol=1e-10)
    close_buffers(models[ax], models[pt], rtol=1e-9, atol=1e-12)
    close(evals[ax], evals[pt], rtol=1e-9, what="validation loss and accuracy")


@pytest.mark.parametrize("block", ["BasicBlock", "Bottleneck"])
def test_resnet_float32_gradients_are_as_close_to_float64_as_pytorchs(block):
    pt, ax, models = _pair(block, [1, 1], False)
    reference = pt.ResNet(getattr(pt, block), [1, 1])
    reference.load_state_dict(models[pt].state_dict())
    reference.double()
    runs = {}
    for prog, model, dtype in ((pt, models[pt], "float32"), (ax, models[ax], "float32"),
                               ("f64", reference, "float64")):
        lib = pt if prog == "f64" else prog
        (x, y), = _batches(lib, 1, getattr(lib.torch, dtype))[0][:1]
        out = model(x)
        lib.nn.CrossEntropyLoss(label_smoothing=0.1)(out, y).backward()
        runs[prog] = [numpy(out)] + [numpy(p.grad) for p in model.parameters()]

    def error(run):
        return max(np.abs(a - r).max() / np.abs(r).max() for a, r in zip(run, runs["f64"]))

    assert error(runs[ax]) < max(4 * error(runs[pt]), 1e-6), (error(runs[ax]), error(runs[pt]))
    for a, t in zip(runs[ax], runs[pt]):
        close(a, t, rtol=1e-4, atol=1e-5)


def test_resnet_runs_as_a_script_on_axonic(capsys):
    run_script(str(HERE / "resnet.py"), ["1"])
    assert "epoch 0: val loss" in capsys.readouterr().out
