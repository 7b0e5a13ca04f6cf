"""``TrainingReport``: one self-contained ``report.html`` at the end of training: the loss
and metric curves, per-layer gradient norms over time, the confusion matrix (and ROC for
binary tasks) on the validation data, and the diagnostics' findings."""

from __future__ import annotations

import base64
import html
import io
import warnings
from pathlib import Path

import numpy as np

from axonic.train.callbacks.base import Callback
from axonic.train.diagnostics.probes import _array

STYLE = ("body{font-family:sans-serif;max-width:960px;margin:2em auto;color:#222}"
         "table{border-collapse:collapse}td,th{border:1px solid #ccc;padding:3px 7px;"
         "text-align:right}.finding{margin:.6em 0}.kind{font-weight:bold}")


def _png(fig) -> str:
    buf = io.BytesIO()
    fig.savefig(buf, format="png", dpi=80, bbox_inches="tight")
    import matplotlib.pyplot as plt

    plt.close(fig)
    return f'<img alt="" src="data:image/png;base64,{base64.b64encode(buf.getvalue()).decode()}">'


def _curves(history: dict) -> str:
    from axonic.explain.visualize import _pyplot

    plt = _pyplot()
    names = [k for k in history if not k.startswith("val_") and k != "lr"]
    fig, axes = plt.subplots(1, len(names), figsize=(4.5 * len(names), 3.2), squeeze=False)
    for ax, name in zip(axes[0], names):
        ax.plot(range(1, len(history[name]) + 1), history[name], label=name)
        if f"val_{name}" in history:
            ax.plot(range(1, len(history[f"val_{name}"]) + 1), history[f"val_{name}"],
                    label=f"val_{name}")
        ax.set_xlabel("epoch")
        ax.set_title(name)
        ax.legend()
    return _png(fig)


def _grad_norms(samples: list) -> str:
    from axonic.explain.visualize import _pyplot

    plt = _pyplot()
    fig, ax = plt.subplots(figsize=(7, 3.5))
    names = sorted({n for _, norms in samples for n in norms})
    for name in names:
        pts = [(s, v) for s, norms in samples for n, v in norms.items() if n == name and v > 0]
        if pts:
            ax.plot(*zip(*pts), label=name)
    ax.set_yscale("log")
    ax.set_xlabel("step")
    ax.set_ylabel("gradient norm")
    ax.legend(fontsize=7, ncol=2)
    return _png(fig)


def _classification(y: np.ndarray, out: np.ndarray) -> str:
    from sklearn.metrics import auc, confusion_matrix, roc_curve

    binary_logit = out.ndim == 1 or out.shape[1] == 1
    pred = (out.reshape(-1) > 0).astype(np.int64) if binary_logit else out.argmax(axis=1)
    labels = np.unique(np.concatenate([y, pred]))
    cm = confusion_matrix(y, pred, labels=labels)
    head = "".join(f"<th>{int(c)}</th>" for c in labels)
    rows = "".join(f"<tr><th>{int(c)}</th>" + "".join(f"<td>{v}</td>" for v in row) + "</tr>"
                   for c, row in zip(labels, cm))
    parts = ['<h2 id="confusion">Confusion matrix (validation)</h2>',
             f'<table class="confusion"><tr><th>true \\ predicted</th>{head}</tr>{rows}</table>']
    if len(np.unique(y)) == 2:
        score = out.reshape(-1) if binary_logit else out[:, 1] - out[:, 0]
        fpr, tpr, _ = roc_curve(y, score)
        from axonic.explain.visualize import _pyplot

        fig, ax = _pyplot().subplots(figsize=(3.6, 3.4))
        ax.plot(fpr, tpr, label=f"AUC {auc(fpr, tpr):.3f}")
        ax.plot([0, 1], [0, 1], color="0.7", ls="--")
        ax.set_xlabel("false positive rate")
        ax.set_ylabel("true positive rate")
        ax.legend()
        parts += ['<h2 id="roc">ROC (validation)</h2>', _png(fig)]
    return "\n".join(parts)


def _findings(findings) -> str:
    if not findings:
        return "<p>No pathology found.</p>"
    return "\n".join(
        f'<div class="finding"><span class="kind">{html.escape(f.kind)}</span>'
        f'{" in layer " + html.escape(str(f.layer)) if f.layer is not None else ""} '
        f"(epoch {f.epoch + 1}, step {f.step}): {html.escape(f.message)}.<br>"
        f"<i>Remedy:</i> {html.escape(f.advice)}.</div>" for f in findings)


def render_report(title, history: dict, grad_norms=(), findings=(), y_true=None,
                  y_out=None) -> str:
    """The report's HTML: every picture inline, so the one file is the whole report."""
    body = [f"<h1>{html.escape(title)}</h1>", '<h2 id="curves">Loss and metrics</h2>',
            _curves(history) if history else "<p>No completed epoch.</p>"]
    if grad_norms:
        body += ['<h2 id="gradients">Gradient norms per layer</h2>', _grad_norms(grad_norms)]
    if y_true is not None and y_out is not None:
        body.append(_classification(y_true, y_out))
    body += ['<h2 id="findings">Findings</h2>', _findings(findings)]
    return (f"<!DOCTYPE html><html><head><meta charset=\"utf-8\"><title>{html.escape(title)}"
            f"</title><style>{STYLE}</style></head><body>\n" + "\n".join(body)
            + "\n</body></html>\n")


class TrainingReport(Callback):
    """Write ``path`` (``report.html``) when training ends, from the trainer's history, the
    gradient norms and findings of a ``Diagnostics`` (and/or ``Monitor``) callback, and, for
    classifiers, predictions on the validation data."""

    rank_zero_only = True  # writes a file

    def __init__(self, path, diagnostics=None, monitor=None, title="Training report"):
        self.path = Path(path)
        self.diagnostics, self.monitor, self.title = diagnostics, monitor, title

    def on_train_end(self, logs=None):
        t = self.trainer
        samples = (self.monitor.grad_norms if self.monitor is not None else
                   self.diagnostics.grad_norm_history if self.diagnostics is not None else [])
        findings = self.diagnostics.findings if self.diagnostics is not None else []
        y, out = self._validation_predictions()
        try:
            page = render_report(self.title, t.history.history, samples, findings, y, out)
        except ImportError:  # a finished run must not fail for want of a plotting library
            warnings.warn("TrainingReport: report.html needs matplotlib and scikit-learn: "
                          "pip install 'axonic[explain]'", RuntimeWarning, stacklevel=2)
            return
        self.path.parent.mkdir(parents=True, exist_ok=True)
        self.path.write_text(page, encoding="utf-8")

    def _validation_predictions(self):
        ds = getattr(getattr(self.trainer, "val_loader", None), "dataset", None)
        tensors = getattr(ds, "tensors", None)
        if not tensors or len(tensors) != 2:
            return None, None
        y = _array(tensors[1])
        if y.dtype.kind not in "iu" or y.ndim != 1:
            return None, None  # not a classification task
        return y, _array(self.trainer.predict(_array(tensors[0])))
