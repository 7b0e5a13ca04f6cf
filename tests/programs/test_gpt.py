"""The nanoGPT-style program (model, train loop, sampler) on PyTorch and on axonic."""

import numpy as np
import pytest

from axonic.compat import run_script
from tests.programs._harness import HERE, both, close, close_params, copy_weights


def _pair(flash=True):
    pt, ax = both("gpt")
    data, chars = pt.encode_text(pt.load_text())
    t_model = pt.GPT(pt.GPTConfig(vocab_size=len(chars), flash=flash))
    a_model = ax.GPT(ax.GPTConfig(vocab_size=len(chars), flash=flash))
    copy_weights(t_model, a_model)
    return pt, ax, t_model, a_model, data, chars


def _batches(prog, data, n, seed=0):
    rng = np.random.default_rng(seed)
    return [prog.get_batch(data, 16, 4, ix=rng.integers(0, len(data) - 16, 4)) for _ in range(n)]


@pytest.mark.parametrize("flash", [True, False], ids=["sdpa", "masked_softmax"])
def test_gpt_logits_loss_and_gradients_match(flash):
    pt, ax, t_model, a_model, data, _ = _pair(flash)
    assert a_model.get_num_params() == t_model.get_num_params()
    assert a_model.lm_head.weight is a_model.transformer.wte.weight
    for prog, model in ((pt, t_model), (ax, a_model)):
        x, y = _batches(prog, data, 1)[0]
        model.logits, loss = model(x, y)
        model.loss = loss
        loss.backward()
    close(a_model.logits, t_model.logits)
    close(a_model.loss, t_model.loss)
    close_params(a_model, t_model, grads=True)


@pytest.mark.filterwarnings("ignore:.*torch.cuda.amp.GradScaler:FutureWarning")  # nanoGPT's call
def test_gpt_train_loop_steps_match():
    pt, ax, t_model, a_model, data, _ = _pair()
    runs = {}
    for prog, model in ((pt, t_model), (ax, a_model)):
        opt = model.configure_optimizers(0.1, 1e-3, (0.9, 0.95), "cpu")
        assert [len(g["params"]) for g in opt.param_groups] == [10, 18]
        logs = []
        runs[prog] = prog.train(model, opt, iter(_batches(prog, data, 7)), 3, log=logs.append), logs
    close(runs[ax][0], runs[pt][0], what="losses")
    assert [line[:7] for line in runs[ax][1]] == [line[:7] for line in runs[pt][1]]
    close_params(a_model, t_model, rtol=1e-3, atol=1e-5)
    batches = {prog: _batches(prog, data, 2, seed=1) for prog in (pt, ax)}
    a_eval = ax.estimate_loss(a_model, batches[ax], ax.nullcontext())
    close(a_eval, pt.estimate_loss(t_model, batches[pt], pt.nullcontext()))
    assert a_model.training


@pytest.mark.filterwarnings("ignore:.*torch.cuda.amp.GradScaler:FutureWarning")
def test_gpt_checkpoint_resume_continues_as_if_never_stopped(tmp_path):
    pt, ax, t_model, a_model, data, _ = _pair()
    config = {"weight_decay": 0.1, "learning_rate": 1e-3, "betas": [0.9, 0.95], "note": "tiny"}
    model_args = dict(n_layer=2, n_head=2, n_embd=32, block_size=16, bias=True,
                      vocab_size=a_model.config.vocab_size)
    batches = {prog: _batches(prog, data, 9) for prog in (pt, ax)}
    ends = {}
    for prog, model in ((pt, t_model), (ax, a_model)):
        opt = model.configure_optimizers(0.1, 1e-3, (0.9, 0.95), "cpu")
        prog.train(model, opt, iter(batches[prog][:5]), 2, log=[].append)
        out_dir = tmp_path / prog.__name__
        out_dir.mkdir()
        prog.save_checkpoint(str(out_dir), model, opt, model_args, 2, prog.torch.tensor(1.25),
                             config)
        resumed, r_opt, iter_num, best = prog.resume(str(out_dir))
        assert iter_num == 2 and float(best) == 1.25
        close_params(resumed, model, rtol=0, atol=0)
        # one more step from the checkpoint and from the live run give the same weights
        prog.train(model, opt, iter(batches[prog][4:]), 1, log=[].append)
        prog.train(resumed, r_opt, iter(batches[prog][4:]), 1, log=[].append)
        close_params(resumed, model, rtol=1e-6, atol=1e-9)
        ends[prog] = model
    close_params(ends[ax], ends[pt], rtol=1e-3, atol=1e-5)
    from safetensors import safe_open  # axonic's checkpoint is a safetensors file + JSON tree

    with safe_open(str(tmp_path / ax.__name__ / "ckpt.pt"), "np") as f:
        assert "model/lm_head.weight" in f.keys() and "axonic.tree" in f.metadata()


def test_gpt_greedy_samples_are_the_same_tokens():
    pt, ax, t_model, a_model, data, chars = _pair()
    for model in (t_model, a_model):
        model.eval()
    start = data[:5].astype(np.int64)[None]
    # top_k=1 leaves one token with probability 1, so multinomial sampling is greedy
    t_out = t_model.generate(pt.torch.from_numpy(start), 24, temperature=0.8, top_k=1)
    a_out = a_model.generate(ax.torch.from_numpy(start), 24, temperature=0.8, top_k=1)
    assert a_out.tolist() == t_out.tolist()
    assert a_out.shape == (1, 29)


def test_gpt_runs_as_a_script_on_axonic(capsys):
    run_script(str(HERE / "gpt.py"), ["2"])
    out = capsys.readouterr().out
    assert "iter 1: loss" in out and "number of parameters" in out
