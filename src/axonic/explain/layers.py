"""Finding a layer by module or dotted name, and capturing its output during a forward."""

from __future__ import annotations

from axonic.nn.module import Module


def resolve_layer(forward_func, layer, who: str) -> Module:
    """``layer`` as a module: itself, or the submodule of ``forward_func`` at a dotted name."""
    if isinstance(layer, Module):
        return layer
    if isinstance(layer, str):
        if not isinstance(forward_func, Module):
            raise TypeError(f"{who}: a layer given by name ({layer!r}) needs a Module model, "
                            f"got {type(forward_func).__name__}")
        names = [n for n, _ in forward_func.named_modules() if n]
        if layer not in names:
            raise ValueError(f"{who}: the model has no layer {layer!r}; its layers are "
                             f"{', '.join(names)}")
        return forward_func.get_submodule(layer)
    raise TypeError(f"{who}: layer must be a Module or a dotted name, "
                    f"got {type(layer).__name__}")


class Capture:
    """Keep the tensor a layer returns (or receives) on each forward while in a ``with``."""

    def __init__(self, layer: Module, attribute_to_layer_input: bool = False):
        self.layer, self.use_input = layer, attribute_to_layer_input
        self.values, self.handle = [], None

    def _hook(self, module, args, out):
        self.values.append(args[0] if self.use_input else out)

    def __enter__(self):
        self.handle = self.layer.register_forward_hook(self._hook)
        return self

    def __exit__(self, *exc):
        self.handle.remove()
