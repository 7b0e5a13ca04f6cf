"""The LSTMCell sine-wave predictor trained by LBFGS (closure, float64) on both libraries."""

import numpy as np

from axonic.compat import run_script
from tests.programs._harness import HERE, both, close, close_params, copy_weights


def _pair():
    pt, ax = both("time_sequence")
    models = {pt: pt.Sequence().double(), ax: ax.Sequence().double()}
    copy_weights(models[pt], models[ax])
    return pt, ax, models


def test_lstmcell_sequence_and_future_predictions_match():
    pt, ax, models = _pair()
    data = pt.generate_sine_wave(N=4, L=30)
    outs = {}
    for prog, model in models.items():
        out = model(prog.torch.from_numpy(data[:, :-1]), future=5)
        prog.nn.MSELoss()(out[:, :-5], prog.torch.from_numpy(data[:, 1:])).backward()
        outs[prog] = out
    assert tuple(outs[ax].shape) == (4, 34)
    close(outs[ax], outs[pt], rtol=1e-10, atol=1e-12)
    close_params(models[ax], models[pt], grads=True, rtol=1e-9, atol=1e-12)


def test_lbfgs_training_matches_step_for_step():
    pt, ax, models = _pair()
    data = pt.generate_sine_wave(N=8, L=40)
    runs = {}
    for prog, model in models.items():
        logs = []
        runs[prog] = prog.train(model, data, steps=2, future=10, log=logs.append), logs
    (a_hist, a_logs), (t_hist, t_logs) = runs[ax], runs[pt]
    # the closure is called as often on both (LBFGS's line search follows the same path)
    assert sum(line.startswith("loss:") for line in a_logs) == \
        sum(line.startswith("loss:") for line in t_logs) > 2
    a_losses = [float(line.split()[-1]) for line in a_logs if line.startswith("loss:")]
    t_losses = [float(line.split()[-1]) for line in t_logs if line.startswith("loss:")]
    close(a_losses, t_losses, rtol=1e-6, atol=1e-9, what="closure losses")
    close([h[0] for h in a_hist], [h[0] for h in t_hist], rtol=1e-6, what="test losses")
    close(a_hist[-1][1], t_hist[-1][1], rtol=1e-6, atol=1e-8, what="future predictions")
    close_params(models[ax], models[pt], rtol=1e-5, atol=1e-8)
    assert np.isfinite(a_losses).all() and a_losses[-1] < a_losses[0]


def test_time_sequence_runs_as_a_script_on_axonic(capsys):
    run_script(str(HERE / "time_sequence.py"), ["--steps", "1", "--length", "30"])
    assert "final test loss" in capsys.readouterr().out
