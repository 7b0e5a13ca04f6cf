"""What the diagnostics sample while training: per-parameter gradient norms (tensor hooks),
update/weight ratios (a copy of the weights before the step), activation statistics of
every ReLU, tanh and sigmoid module (forward hooks) and whether the outputs stay finite.
Hooks do their work only on sampled steps."""

from __future__ import annotations

import numpy as np

from axonic.nn.activation import ReLU, Sigmoid, Tanh

# saturation as SageMaker Debugger's built-in rule defines it
TANH_SATURATED = 0.97
SIGMOID_LOW, SIGMOID_HIGH = 0.01, 0.99


def _array(t) -> np.ndarray:
    data = getattr(t, "_data", t)
    return np.asarray(data.get() if hasattr(data, "get") else data)


def _units_axis(a: np.ndarray) -> int:
    return 1 if a.ndim == 4 or a.ndim == 5 else a.ndim - 1  # channels of images, else last


class Probes:
    """Hooks on one model. ``sampling`` switches the per-step work on and off."""

    def __init__(self, model):
        self.model = model
        self.params = [(n, p) for n, p in model.named_parameters() if p.requires_grad]
        self.activations = [(n, m, "relu" if isinstance(m, ReLU) else
                             "tanh" if isinstance(m, Tanh) else "sigmoid")
                            for n, m in model.named_modules() if isinstance(m, ReLU | Tanh
                                                                            | Sigmoid)]
        self.sampling = False
        self.grad_norms: dict = {}
        self.act_stats: dict = {}
        self.alive: dict = {}  # relu module -> per-unit "was ever > 0" this epoch
        self.nonfinite_output = False
        self.keep_arrays = False  # also keep gradients and activation summaries (Monitor)
        self.grads: dict = {}
        self.act_summary: dict = {}
        self._handles = []
        self._before = None

    def attach(self) -> None:
        for name, p in self.params:
            self._handles.append(p.register_hook(self._grad_hook(name)))
        for name, m, kind in self.activations:
            self._handles.append(m.register_forward_hook(self._act_hook(name, kind)))
        self._handles.append(self.model.register_forward_hook(self._output_hook))

    def detach(self) -> None:
        for h in self._handles:
            h.remove()
        self._handles = []

    def _grad_hook(self, name):
        def hook(g):
            if self.sampling:
                a = _array(g)
                if self.keep_arrays:
                    old = self.grads.get(name)
                    self.grads[name] = a.copy() if old is None else old + a
                prev = self.grad_norms.get(name, 0.0)
                self.grad_norms[name] = float(np.sqrt(prev ** 2 + np.sum(
                    np.square(a, dtype=np.float64))))
        return hook

    def _act_hook(self, name, kind):
        def hook(module, args, out):
            if not self.sampling or not module.training:
                return None
            a = _array(out)
            if self.keep_arrays:
                self.act_summary[name] = (float(a.mean()), float(a.std()))
            if kind == "relu":
                axis = _units_axis(a)
                alive = (a > 0).any(axis=tuple(i for i in range(a.ndim) if i != axis))
                prev = self.alive.get(name)
                self.alive[name] = alive if prev is None or prev.shape != alive.shape \
                    else prev | alive
            else:
                sat = (np.abs(a) > TANH_SATURATED) if kind == "tanh" else \
                    (a < SIGMOID_LOW) | (a > SIGMOID_HIGH)
                self.act_stats.setdefault(name, []).append(float(sat.mean()))
            return None
        return hook

    def _output_hook(self, module, args, out):
        a = _array(out[0] if isinstance(out, tuple) else out)
        if a.dtype.kind == "f" and not np.isfinite(a).all():
            self.nonfinite_output = True
        return None

    def begin_step(self) -> None:
        self.sampling = True
        self.grad_norms, self.grads, self.act_summary = {}, {}, {}
        self._before = [(n, _array(p).copy()) for n, p in self.params]

    def end_step(self, stepped: bool) -> dict:
        """Stop sampling; the update/weight ratio of each parameter if the optimizer stepped."""
        self.sampling = False
        ratios = {}
        if stepped and self._before is not None:
            for (name, old), (_, p) in zip(self._before, self.params):
                norm = float(np.linalg.norm(old))
                if norm > 0:
                    ratios[name] = float(np.linalg.norm(_array(p) - old)) / norm
        self._before = None
        return ratios

    def snapshot(self) -> list:
        return [(n, _array(p).copy()) for n, p in self.params]
