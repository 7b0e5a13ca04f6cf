"""Monitor writes per-layer statistics that TensorBoard's own reader reads back; the
training report is one complete, self-contained HTML file."""

import warnings
from html.parser import HTMLParser

import numpy as np
import pytest

import axonic
from axonic import nn, optim
from axonic.train import Trainer
from axonic.train.diagnostics import Diagnostics, Monitor, TrainingReport


def _data(n=96, seed=0):
    rng = np.random.default_rng(seed)
    X = rng.normal(size=(n, 4)).astype(np.float32)
    return X, (X[:, 0] + 0.5 * X[:, 1] > 0).astype(np.int64)


def _fit(callbacks, epochs=2, val=True, model=None, warn=True):
    axonic.manual_seed(0)
    model = model or nn.Sequential(nn.Linear(4, 8), nn.ReLU(), nn.Linear(8, 2))
    trainer = Trainer(model, optim.Adam(model.parameters(), lr=0.02), nn.CrossEntropyLoss(),
                      metrics=["accuracy"], callbacks=callbacks, seed=0)
    if not warn:
        trainer.fit(_data(), epochs=epochs, batch_size=16, verbose=0)
        return trainer
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        trainer.fit(_data(), validation=_data(40, 1) if val else None, epochs=epochs,
                    batch_size=16, verbose=0)
    return trainer


def test_monitor_statistics_read_back_with_tensorboard(tmp_path):
    pytest.importorskip("tensorboardX")
    ea_module = pytest.importorskip("tensorboard.backend.event_processing.event_accumulator")
    monitor = Monitor(tmp_path, every_n_steps=2)
    _fit([monitor])
    acc = ea_module.EventAccumulator(str(tmp_path), size_guidance={"scalars": 0,
                                                                   "histograms": 0})
    acc.Reload()
    tags = acc.Tags()
    assert {"grad_norm/0.weight", "update_ratio/2.weight", "activation_mean/1",
            "activation_std/1"} <= set(tags["scalars"])
    assert {"weights/0.weight", "grads/2.bias"} <= set(tags["histograms"])
    norms = acc.Scalars("grad_norm/0.weight")
    assert [e.step for e in norms] == [s for s, _ in monitor.grad_norms] == [0, 2, 4, 6, 8, 10]
    assert np.allclose([e.value for e in norms],
                       [n["0.weight"] for _, n in monitor.grad_norms], rtol=1e-6)
    hist = acc.Histograms("weights/0.weight")[-1].histogram_value
    assert hist.num == 32 and hist.min < 0 < hist.max


def test_monitor_gradient_norms_are_the_true_norms(tmp_path):
    pytest.importorskip("tensorboardX")
    model = nn.Sequential(nn.Linear(4, 2))
    monitor = Monitor(tmp_path, every_n_steps=1, histograms=False)
    X, y = _data(16)
    w = model[0].weight.detach().numpy().copy()
    b = model[0].bias.detach().numpy().copy()
    trainer = Trainer(model, optim.SGD(model.parameters(), lr=0.0), nn.CrossEntropyLoss(),
                      callbacks=[monitor], seed=0)
    trainer.fit((X, y), epochs=1, batch_size=16, verbose=0)
    logits = X @ w.T + b
    p = np.exp(logits - logits.max(1, keepdims=True))
    p /= p.sum(1, keepdims=True)
    p[np.arange(16), y] -= 1
    grad_w = p.T @ X / 16
    assert np.isclose(monitor.grad_norms[0][1]["0.weight"], np.linalg.norm(grad_w), rtol=1e-5)


class _Sections(HTMLParser):
    def __init__(self):
        super().__init__()
        self.ids, self.images, self.cells, self.text = [], [], [], []
        self._in_td = False

    def handle_starttag(self, tag, attrs):
        a = dict(attrs)
        if "id" in a:
            self.ids.append(a["id"])
        if tag == "img":
            self.images.append(a["src"])
        self._in_td = tag == "td"

    def handle_data(self, data):
        self.text.append(data)
        if self._in_td:
            self.cells.append(int(data))
            self._in_td = False


def test_report_html_is_complete_for_a_binary_task(tmp_path):
    pytest.importorskip("matplotlib")
    pytest.importorskip("sklearn")
    diag = Diagnostics(every_n_steps=1, verbose=False)
    report = TrainingReport(tmp_path / "report.html", diagnostics=diag, title="binary run")
    _fit([diag, report])
    page = (tmp_path / "report.html").read_text()
    parsed = _Sections()
    parsed.feed(page)
    assert parsed.ids == ["curves", "gradients", "confusion", "roc", "findings"]
    assert len(parsed.images) == 3 and all(s.startswith("data:image/png;base64,")
                                           for s in parsed.images)
    assert sum(parsed.cells) == 40  # every validation example in the confusion matrix
    assert "No pathology found." in "".join(parsed.text)
    assert "http" not in page  # self-contained: nothing to fetch


def test_report_lists_the_findings(tmp_path):
    pytest.importorskip("matplotlib")
    pytest.importorskip("sklearn")
    model = nn.Sequential(nn.Linear(4, 8), nn.ReLU(), nn.Linear(8, 2))
    with axonic.no_grad():
        model[0].bias.fill_(-20.0)
    diag = Diagnostics(verbose=False)
    report = TrainingReport(tmp_path / "report.html", diagnostics=diag)
    _fit([diag, report], epochs=1, model=model)
    text = "".join(_feed((tmp_path / "report.html").read_text()).text)
    assert "dead_relu in layer 1" in text and "Remedy: use Leaky ReLU" in text


def _feed(page):
    p = _Sections()
    p.feed(page)
    return p


def test_monitor_errors_name_the_value():
    with pytest.raises(ValueError, match="Monitor: every_n_steps must be an int >= 1, got -1"):
        Monitor(".", every_n_steps=-1)


def test_report_without_matplotlib_warns_one_line_and_training_finishes(tmp_path,
                                                                         monkeypatch):
    import sys

    monkeypatch.setitem(sys.modules, "matplotlib", None)
    monkeypatch.setitem(sys.modules, "matplotlib.pyplot", None)
    report = TrainingReport(tmp_path / "report.html")
    with pytest.warns(RuntimeWarning, match=r"report.html needs matplotlib and scikit-learn: "
                                            r"pip install 'axonic\[explain\]'"):
        trainer = _fit([report], epochs=1, val=False, warn=False)
    assert len(trainer.history.history["loss"]) == 1
    assert not (tmp_path / "report.html").exists()
