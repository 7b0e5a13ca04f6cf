"""The word-level LSTM language model (truncated BPTT, p.data.add_ SGD) on both libraries."""

import pytest

from axonic.compat import run_script
from tests.programs._harness import HERE, both, close, close_params, copy_weights


def _pair(rnn_type, tie):
    pt, ax = both("word_lm")
    corpora = {prog: prog.load_corpus() for prog in (pt, ax)}
    ntoken = len(corpora[pt].idx2word)
    models = {prog: prog.RNNModel(rnn_type, ntoken, 16, 16, 2, dropout=0.0, tie_weights=tie)
              for prog in (pt, ax)}
    copy_weights(models[pt], models[ax])
    return pt, ax, corpora, models


@pytest.mark.parametrize("rnn_type,tie", [("LSTM", True), ("GRU", False), ("RNN_TANH", False)])
def test_word_lm_bptt_training_matches(rnn_type, tie):
    pt, ax, corpora, models = _pair(rnn_type, tie)
    losses = {}
    for prog in (pt, ax):
        data = prog.batchify(corpora[prog].train, 8)
        losses[prog] = prog.train(models[prog], data, 5.0, 10, 8, max_batches=4, log=None)
    close(losses[ax], losses[pt], rtol=1e-4, what="losses")
    close_params(models[ax], models[pt], rtol=1e-3, atol=1e-5)
    evals = [prog.evaluate(models[prog], prog.batchify(corpora[prog].valid, 4), 10, 4)
             for prog in (pt, ax)]
    close(evals[1], evals[0], rtol=1e-4, what="validation loss")


def test_word_lm_hidden_state_carries_across_batches():
    pt, ax, corpora, models = _pair("LSTM", True)
    outs = {}
    for prog in (pt, ax):
        data = prog.batchify(corpora[prog].train, 3)
        hidden = models[prog].init_hidden(3)
        for i in (0, 7):
            x, _ = prog.get_batch(data, i, 7)
            out, hidden = models[prog](x, prog.repackage_hidden(hidden))
        outs[prog] = out, hidden
    close(outs[ax][0], outs[pt][0])
    close(outs[ax][1][0], outs[pt][1][0])
    close(outs[ax][1][1], outs[pt][1][1])
    assert outs[ax][1][0].grad_fn is not None
    assert ax.repackage_hidden(outs[ax][1])[0].grad_fn is None


def test_word_lm_runs_as_a_script_on_axonic(capsys):
    run_script(str(HERE / "word_lm.py"), ["1"])
    assert "| end of epoch   1 | valid loss" in capsys.readouterr().out
