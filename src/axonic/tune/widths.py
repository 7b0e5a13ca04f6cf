"""Fill in the input widths a configuration leaves out, from the previous layer's output
(like PyTorch's lazy modules): a width searched in one layer flows into the next.

``in_features``, ``input_size``, ``normalized_shape``, ``embed_dim`` and ``d_model`` take
the last axis of the incoming activation; ``in_channels``, ``num_features`` and
``num_channels`` its second axis. Only a width the layer requires and the table omits is
filled; the layers are built and run one at a time on a small sample batch.

>>> import axonic
>>> layers = [{"type": "Linear", "in_features": 4, "out_features": 16}, {"type": "ReLU"},
...           {"type": "Linear", "out_features": 3}]
>>> infer_widths(layers, axonic.zeros(2, 4))[2]
{'type': 'Linear', 'out_features': 3, 'in_features': 16}
"""

from __future__ import annotations

import inspect

from axonic.autograd.grad_mode import no_grad
from axonic.cli.builders import build_from_table, layer_types
from axonic.cli.config import ConfigError

LAST_AXIS = ("in_features", "input_size", "normalized_shape", "embed_dim", "d_model")
CHANNEL_AXIS = ("in_channels", "num_features", "num_channels")


def _width(key: str, h, where: str) -> int:
    h = h[0] if isinstance(h, tuple) else h
    axis = -1 if key in LAST_AXIS else 1
    if h.ndim < (1 if axis == -1 else 2):
        raise ConfigError(f"{where}: {key} is left out and cannot be inferred from the input "
                          f"of shape {tuple(h.shape)}; set it in the config")
    return int(h.shape[axis])


def infer_widths(layers: list, x) -> list:
    """A copy of ``layers`` (config tables) with every omitted input width filled in from
    ``x`` (a sample batch) passed through the layers before it."""
    types = layer_types()
    out, h = [], x
    with no_grad():
        for i, table in enumerate(layers):
            table, where = dict(table), f"model.layers[{i}] ({table.get('type')})"
            cls = types.get(table.get("type"))
            if cls is not None:
                params = inspect.signature(cls.__init__).parameters
                for key in LAST_AXIS + CHANNEL_AXIS:
                    p = params.get(key)
                    if p is not None and p.default is p.empty and key not in table:
                        table[key] = _width(key, h, where)
            layer = build_from_table(f"model.layers[{i}]", table, types, "layer")
            layer.eval()
            try:
                h = layer(h)
            except Exception as e:  # noqa: BLE001  (reported with its place, like check_model)
                shape = tuple((h[0] if isinstance(h, tuple) else h).shape)
                raise ConfigError(f"{where}: the input of shape {shape} does not fit: "
                                  f"{e}") from None
            out.append(table)
    return out


def omits_widths(layers: list) -> bool:
    """Whether some layer table leaves out an input width its layer requires."""
    types = layer_types()
    for table in layers:
        cls = types.get(table.get("type")) if isinstance(table, dict) else None
        if cls is None:
            continue
        params = inspect.signature(cls.__init__).parameters
        for key in LAST_AXIS + CHANNEL_AXIS:
            p = params.get(key)
            if p is not None and p.default is p.empty and key not in table:
                return True
    return False
