"""ONNX control flow: If, Loop and Scan (opset 8's batch-major form and 9+), running their
subgraphs with the enclosing scope visible, so gradients flow through the taken branch and
every iteration."""

from __future__ import annotations

import numpy as np

import axonic
from axonic.onnx.ops import onnx_op
from axonic.onnx.ops._util import arr, scalar, to_value


@onnx_op("If")
def if_(inputs, attrs, ctx):
    branch = attrs["then_branch"] if bool(scalar(inputs[0])) else attrs["else_branch"]
    return tuple(ctx.run_graph(branch, {}, ctx.scope))


def _stack(values):
    if not values:
        return None
    if all(isinstance(v, axonic.Tensor) for v in values):
        return axonic.stack(values, 0)
    return to_value(np.stack([arr(v) for v in values]))


@onnx_op("Loop")
def loop(inputs, attrs, ctx):
    body = attrs["body"]
    opt = list(inputs) + [None] * (2 - len(inputs))
    trips = None if opt[0] is None else int(scalar(opt[0]))
    cond = True if opt[1] is None else bool(scalar(opt[1]))
    state = list(inputs[2:])
    n_state = len(state)
    scans = None
    i = 0
    while (trips is None or i < trips) and cond:
        feeds = dict(zip(body.inputs, [to_value(np.array(i, dtype=np.int64)),
                                       to_value(np.array(cond))] + state))
        out = ctx.run_graph(body, feeds, ctx.scope)
        cond = bool(scalar(out[0]))
        state = list(out[1:1 + n_state])
        step = out[1 + n_state:]
        if scans is None:
            scans = [[] for _ in step]
        for acc, v in zip(scans, step):
            acc.append(v)
        i += 1
    n_scan = len(ctx.outputs) - n_state
    if scans is None:  # no iteration ran: empty scan outputs
        scans = [[] for _ in range(n_scan)]
    stacked = []
    for acc in scans:
        if acc and isinstance(acc[0], list):  # a sequence output
            stacked.append([x for seq in acc for x in seq])
        else:
            stacked.append(_stack(acc) if acc else to_value(np.zeros((0,), np.float32)))
    return tuple(state + stacked)


@onnx_op("Scan", since=9)
def scan(inputs, attrs, ctx):
    body = attrs["body"]
    n_in = attrs["num_scan_inputs"]
    n_state = len(inputs) - n_in
    state = list(inputs[:n_state])
    xs = list(inputs[n_state:])
    in_axes = attrs.get("scan_input_axes") or [0] * n_in
    in_dirs = attrs.get("scan_input_directions") or [0] * n_in
    xs = [x.movedim(a % x.ndim, 0) if a % x.ndim else x for x, a in zip(xs, in_axes)]
    steps = xs[0].shape[0]
    outs = None
    for t in range(steps):
        sl = [x[steps - 1 - t] if d else x[t] for x, d in zip(xs, in_dirs)]
        out = ctx.run_graph(body, dict(zip(body.inputs, state + sl)), ctx.scope)
        state = list(out[:n_state])
        if outs is None:
            outs = [[] for _ in out[n_state:]]
        for acc, v in zip(outs, out[n_state:]):
            acc.append(v)
    outs = outs or []
    n_out = len(outs)
    out_axes = attrs.get("scan_output_axes") or [0] * n_out
    out_dirs = attrs.get("scan_output_directions") or [0] * n_out
    result = []
    for acc, a, d in zip(outs, out_axes, out_dirs):
        y = _stack(acc[::-1] if d else acc)
        a = a % y.ndim
        result.append(y.movedim(0, a) if a else y)
    return tuple(state + result)


@onnx_op("Scan", since=8, until=8)
def scan8(inputs, attrs, ctx):
    """Opset 8: a leading batch axis on states and scan inputs, optional sequence_lens."""
    lens, rest = inputs[0], list(inputs[1:])
    n_in = attrs["num_scan_inputs"]
    n_state = len(rest) - n_in
    batch = rest[0].shape[0]
    steps = rest[n_state].shape[1]
    if lens is not None and any(int(n) != steps for n in arr(lens).reshape(-1)):
        raise NotImplementedError(f"ONNX import: {ctx}: Scan-8 with sequence_lens shorter "
                                  "than the sequence is not supported")
    dirs = attrs.get("directions") or [0] * n_in
    per_batch = []
    for b in range(batch):
        sub = [x[b] for x in rest]
        attrs9 = {"body": attrs["body"], "num_scan_inputs": n_in,
                  "scan_input_directions": dirs}
        per_batch.append(scan(sub, attrs9, ctx))
    return tuple(_stack([out[k] for out in per_batch]) for k in range(len(per_batch[0])))
