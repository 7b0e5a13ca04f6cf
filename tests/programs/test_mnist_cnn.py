"""The digits CNN script (torch.utils.data, Adadelta, StepLR) on PyTorch and on axonic."""

import argparse

from axonic.compat import run_script
from tests.programs._harness import HERE, both, close, close_params, copy_weights


def _no_dropout(model):
    for m in model.modules():
        if type(m).__name__ == "Dropout":
            m.p = 0.0  # the two libraries draw different masks
    return model


def test_mnist_cnn_trains_the_same_on_axonic():
    pt, ax = both("mnist_cnn")
    args = argparse.Namespace(log_interval=10, dry_run=False)
    models = {pt: _no_dropout(pt.Net()), ax: _no_dropout(ax.Net())}
    copy_weights(models[pt], models[ax])
    runs = {}
    for prog, model in models.items():
        train_set, test_set = prog.make_datasets()
        loader = prog.DataLoader(train_set, batch_size=100)
        optimizer = prog.optim.Adadelta(model.parameters(), lr=1.0)
        scheduler = prog.StepLR(optimizer, step_size=1, gamma=0.7)
        logs = []
        losses = prog.train(args, model, "cpu", loader, optimizer, 1, log=logs.append)
        scheduler.step()
        result = prog.test(model, "cpu", prog.DataLoader(test_set, batch_size=500), log=logs.append)
        runs[prog] = (model, losses, result, logs, optimizer.param_groups[0]["lr"])
    (t_model, t_losses, t_result, t_logs, t_lr), (a_model, a_losses, a_result, a_logs, a_lr) = \
        runs[pt], runs[ax]
    assert len(a_losses) == len(t_losses) == 15
    close(a_losses, t_losses, rtol=1e-4, what="per-step losses")
    close_params(a_model, t_model, rtol=1e-3, atol=1e-4)
    close(a_result[0], t_result[0], rtol=1e-4, what="test loss")
    assert abs(a_result[1] - t_result[1]) <= 1 and a_result[1] > 100  # chance is ~30 of 297
    assert a_lr == t_lr == 0.7
    assert [line.split("Loss")[0] for line in a_logs[:-1]] == \
        [line.split("Loss")[0] for line in t_logs[:-1]]


def test_mnist_cnn_gradients_match_in_eval_and_train_mode():
    pt, ax = both("mnist_cnn")
    t_model = pt.Net()
    a_model = ax.Net()
    copy_weights(t_model, a_model)
    images, labels = pt.load_digits_arrays()
    for prog, model in ((pt, t_model), (ax, a_model)):
        model.eval()
        out = model(prog.torch.from_numpy(images[:32]))
        prog.F.nll_loss(out, prog.torch.from_numpy(labels[:32])).backward()
    close(a_model(ax.torch.from_numpy(images[:32])), t_model(pt.torch.from_numpy(images[:32])))
    close_params(a_model, t_model, grads=True)


def test_mnist_cnn_runs_as_a_script_on_axonic(capsys):
    out = run_script(str(HERE / "mnist_cnn.py"), ["--epochs", "1", "--dry-run"])
    assert "Test set: Average loss" in capsys.readouterr().out
    assert out["Net"].__module__ == "__main__"
