"""``Diagnostics``: a callback that samples gradients, updates and activations while
training and reports each pathology it recognises once, with the evidence and a remedy."""

from __future__ import annotations

import math

import numpy as np

from axonic.train.callbacks.base import Callback
from axonic.train.diagnostics import rules
from axonic.train.diagnostics.finding import Finding
from axonic.train.diagnostics.probes import Probes, _array


class Diagnostics(Callback):
    """Watch a run for vanishing/exploding gradients, dead ReLUs, saturation, poor
    initialisation, overfitting, divergence, a learning rate too high or too low, a loss
    that does not decrease, class imbalance and parameters that never change.

    Statistics are sampled every ``every_n_steps`` optimizer steps (the first included);
    ``findings`` lists what was found, each printed once when first seen (``verbose``).

    >>> import numpy as np, axonic
    >>> from axonic import nn, optim
    >>> from axonic.train import Trainer
    >>> X = np.random.default_rng(0).normal(size=(64, 4)).astype(np.float32)
    >>> y = (X[:, 0] > 0).astype(np.int64)
    >>> model = nn.Sequential(nn.Linear(4, 8), nn.ReLU(), nn.Linear(8, 2))
    >>> diag = Diagnostics(verbose=False)
    >>> trainer = Trainer(model, optim.Adam(model.parameters(), lr=0.01), nn.CrossEntropyLoss(),
    ...                   callbacks=[diag], seed=0)
    >>> _ = trainer.fit((X, y), epochs=3, verbose=0)
    >>> diag.findings
    []
    """

    def __init__(self, every_n_steps: int = 10, verbose: bool = True):
        if isinstance(every_n_steps, bool) or not isinstance(every_n_steps, int) \
                or every_n_steps < 1:
            raise ValueError(f"Diagnostics: every_n_steps must be an int >= 1, "
                             f"got {every_n_steps!r}")
        self.every_n_steps = every_n_steps
        self.verbose = verbose
        self.findings: list[Finding] = []
        self.grad_norm_history: list[tuple[int, dict]] = []  # (step, {param: norm})

    # --- bookkeeping ------------------------------------------------------------------
    def _report(self, kind, layer, evidence, message, step=None):
        if any(f.kind == kind and f.layer == layer for f in self.findings):
            return
        t = self.trainer
        f = Finding(kind, layer, self.epoch, t.global_step if step is None else step,
                    evidence, message)
        self.findings.append(f)
        if self.verbose:
            print(f"Diagnostics: {f}")

    def on_train_begin(self, logs=None):
        self.probes = Probes(self.trainer.model)
        self.probes.attach()
        self.sizes = {n: (int(np.prod(p.shape)), p.ndim) for n, p in self.probes.params}
        self.held = {id(p) for g in self.trainer.optimizer.param_groups for p in g["params"]}
        self.start = [(n, _array(p).copy()) for n, p in self.trainer.model.named_parameters()
                      if id(p) in self.held]
        self.first_norms, self.first_loss, self.sampled = None, None, False
        self.epoch_losses, self.val_losses = [], []
        self.epoch = self.trainer.epoch
        self._new_epoch()

    def _new_epoch(self):
        self.grad_samples, self.ratio_samples = [], []
        self.probes.alive, self.probes.act_stats = {}, {}
        self.epoch_first_loss, self.epoch_done = None, False

    def on_epoch_begin(self, epoch, logs=None):
        self.epoch = epoch
        self._new_epoch()

    def on_batch_begin(self, batch, logs=None):
        self.sampled = self.trainer.global_step % self.every_n_steps == 0
        if self.sampled:
            self.probes.begin_step()

    def on_batch_end(self, batch, logs=None):
        logs = logs or {}
        loss = logs.get("batch_loss")
        if loss is not None:
            self.first_loss = loss if self.first_loss is None else self.first_loss
            self.epoch_first_loss = loss if self.epoch_first_loss is None \
                else self.epoch_first_loss
            if loss > rules.BLOW_UP * self.first_loss > 0:
                self._report("divergence", None, {"batch_loss": loss,
                                                  "first_loss": self.first_loss},
                             f"the batch loss rose to {loss:.4g}, over {rules.BLOW_UP:g}x the "
                             f"first batch's {self.first_loss:.4g}")
        if not self.sampled:
            return
        self.sampled = False
        step = self.trainer.global_step - (1 if logs.get("optimizer_step") else 0)
        ratios = self.probes.end_step(bool(logs.get("optimizer_step")))
        norms = dict(self.probes.grad_norms)
        self.grad_norm_history.append((step, norms))
        self.grad_samples.append(norms)
        weights = {n: r for n, r in ratios.items() if self.sizes[n][1] >= 2}
        if weights:
            self.ratio_samples.append(max(weights.items(), key=lambda kv: kv[1]))
        if self.first_norms is None:
            self.first_norms = norms
            self._check_activations(initial=True, step=step)
        else:
            hit = rules.exploding(self.first_norms, norms)
            if hit:
                growth = (f", {hit[1]['growth']:.3g}x its first value"
                          if "growth" in hit[1] else "")
                self._report("exploding_gradients", hit[0], hit[1],
                             f"the gradient norm reached {hit[1]['grad_norm']:.4g}{growth}", step)

    def on_epoch_end(self, epoch, logs=None):
        logs = logs or {}
        if "loss" in logs:
            self.epoch_losses.append(float(logs["loss"]))
        if "val_loss" in logs:
            self.val_losses.append(float(logs["val_loss"]))
        self._epoch_rules(epoch)
        self.epoch_done = True

    def on_train_end(self, logs=None):
        if not self.epoch_done:  # the run stopped inside an epoch
            self._epoch_rules(self.epoch)
        bad = [n for n, p in self.trainer.model.named_parameters()
               if not np.isfinite(_array(p)).all()]
        self._check_classes()
        if self.probes.nonfinite_output or bad:
            self._report("divergence", bad[0] if bad else None,
                         {"nonfinite_output": self.probes.nonfinite_output,
                          "nonfinite_parameters": bad},
                         "the model produced NaN/Inf" + (f" and parameter {bad[0]!r} is no "
                                                         "longer finite" if bad else ""))
        self.probes.detach()

    # --- rules run once an epoch ------------------------------------------------------
    def _epoch_rules(self, epoch):
        hit = rules.gradient_spread(self.grad_samples, self.sizes)
        if hit:
            kind, layer, ev = hit
            self._report(kind, layer, ev,
                         f"the first weight layer's gradients are {ev['ratio']:.2g}x the last "
                         "one's (median per-element RMS over the sampled steps)")
        self._check_activations(initial=False)
        self._check_learning_rate(epoch)
        if epoch == 0:
            self._check_unchanged()
        turned = rules.overfitting(self.epoch_losses, self.val_losses)
        if turned:
            e = turned[1]
            self._report("overfitting", None, e,
                         f"the validation loss turned at epoch {e['turned_at_epoch']} "
                         f"({e['best_val_loss']:.4g}) and is now {e['val_loss']:.4g} while the "
                         f"training loss fell to {e['train_loss']:.4g}")
        flat = rules.plateau(self.epoch_losses)
        if flat:
            self._report("loss_not_decreasing", None, flat,
                         f"the training loss has not improved by 1% in {flat['epochs']} "
                         f"epochs and is still {self.epoch_losses[-1]:.4g} "
                         f"(first epoch {flat['first_loss']:.4g})")

    def _check_activations(self, initial: bool, step=None):
        kind = "poor_initialization" if initial else None
        for name, alive in self.probes.alive.items():
            dead = 1.0 - float(np.mean(alive))
            if dead > rules.DEAD_FRACTION:
                ev = {"dead_fraction": dead, "units": int(alive.size)}
                msg = f"{dead:.0%} of its {alive.size} units never fired on the sampled batches"
                self._report(kind or "dead_relu", name, ev,
                             msg + (" at initialisation" if initial else ""), step)
                if initial:
                    self._report("dead_relu", name, ev, msg, step)
        for name, fractions in self.probes.act_stats.items():
            sat = float(np.mean(fractions))
            if sat > rules.SATURATED_FRACTION:
                ev = {"saturated_fraction": sat}
                msg = f"{sat:.0%} of its outputs are in the flat tails"
                self._report(kind or "saturated_activations", name, ev,
                             msg + (" at initialisation" if initial else ""), step)
                if initial:
                    self._report("saturated_activations", name, ev, msg, step)

    def _check_learning_rate(self, epoch):
        if not self.ratio_samples:
            return
        layer, top = max(self.ratio_samples, key=lambda kv: kv[1])
        median = float(np.median([r for _, r in self.ratio_samples]))
        lr = self.trainer.optimizer.param_groups[0].get("lr")
        if top > rules.LR_HIGH_RATIO:
            self._report("learning_rate_too_high", layer,
                         {"update_ratio": top, "lr": lr},
                         f"one step changed its weights by {top:.3g}x their size "
                         f"(healthy steps change them by about 1e-3x)")
        if epoch == 0 and 0 < median < rules.LR_LOW_RATIO and self.epoch_losses:
            start, end = self.epoch_first_loss, self.epoch_losses[-1]
            if start and (start - end) < rules.LR_LOW_PROGRESS * abs(start):
                self._report("learning_rate_too_low", layer,
                             {"update_ratio": median, "lr": lr, "loss_start": start,
                              "loss_end": end},
                             f"each step changes the weights by only {median:.2g}x their size "
                             f"and the loss moved from {start:.4g} to {end:.4g}")

    def _check_unchanged(self):
        params = dict(self.trainer.model.named_parameters())
        # dead units and vanishing gradients already explain weights that cannot move
        explained = any(f.kind in ("dead_relu", "vanishing_gradients") for f in self.findings)
        for name, before in self.start:
            if explained and params[name].requires_grad:
                continue
            if np.array_equal(before, _array(params[name])):
                self._report("unchanged_weights", name,
                             {"requires_grad": bool(params[name].requires_grad)},
                             "the optimizer holds it but it did not change in the first epoch"
                             + ("" if params[name].requires_grad else
                                " (requires_grad is False)"))
        self.start = []

    def _check_classes(self):
        ds = getattr(self.trainer.train_loader, "dataset", None)
        tensors = getattr(ds, "tensors", None)
        if not tensors or len(tensors) != 2:
            return
        x, y = (_array(t)[:rules.CHECKED_EXAMPLES] for t in tensors)
        if y.dtype.kind not in "iu" or y.ndim != 1:
            return
        classes, counts = np.unique(y, return_counts=True)
        if len(classes) < 2 or np.median(counts) <= rules.IMBALANCE_RATIO * counts.min():
            return  # balanced enough: no need to predict
        out = _array(self.trainer.predict(x))
        if out.ndim != 2 or out.shape[1] < 2:
            return
        hit = rules.imbalance(y, out.argmax(axis=1))
        if hit:
            rare = ", ".join(f"{c}: {r:.0%}" for c, r in hit["recall_of_rare_classes"].items())
            self._report("class_imbalance", None, hit,
                         f"the typical class has {hit['ratio']:.3g}x the examples of the "
                         f"rarest, and the model finds few of the rare ones "
                         f"(recall {rare})")

    def state_dict(self) -> dict:
        return {"findings": [{**vars(f), "evidence": _jsonable(f.evidence)}
                             for f in self.findings]}

    def load_state_dict(self, state: dict) -> None:
        self.findings = [Finding(**f) for f in state.get("findings", [])]


def _jsonable(value):
    if isinstance(value, dict):
        return {str(k): _jsonable(v) for k, v in value.items()}
    if isinstance(value, list | tuple):
        return [_jsonable(v) for v in value]
    if isinstance(value, float) and not math.isfinite(value):
        return str(value)
    return value.item() if hasattr(value, "item") else value
