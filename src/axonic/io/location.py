"""``map_location``: where each loaded tensor goes, with ``torch.load``'s rules."""

from __future__ import annotations

from collections.abc import Mapping


def placer(map_location, where: str):
    """``storage -> Device`` for ``map_location`` (None, str, device, dict or callable);
    a storage has ``.location`` (the saved device string) and ``.array`` (its data).

    >>> from types import SimpleNamespace
    >>> import numpy as np
    >>> place = placer({"cuda:0": "cpu"}, "'ckpt.pt'")
    >>> place(SimpleNamespace(location="cuda:0", array=np.zeros(2)))
    device(type='cpu')
    """
    from axonic.autograd.tensor import Tensor, _make
    from axonic.backend.device import Device, as_device, cuda_is_available

    def default(location) -> Device:
        try:
            dev = as_device(location if isinstance(location, str) else str(location))
        except ValueError:
            raise RuntimeError(f"axonic.load: {where} holds tensors saved on {location!r}, "
                               "a device axonic does not have; pass map_location='cpu'") from None
        if dev.type == "cuda" and not cuda_is_available():
            raise RuntimeError(f"axonic.load: {where} holds tensors saved on {location!r} but "
                               "CUDA is not available; pass map_location='cpu'")
        return dev

    if map_location is None:
        return lambda st: default(st.location)
    if isinstance(map_location, str | Device):
        dev = default(map_location)
        return lambda st: dev
    if isinstance(map_location, Mapping):
        return lambda st: default(map_location.get(st.location, st.location))
    if callable(map_location):
        def place(st):
            out = map_location(_make(st.array), st.location)
            if out is None:
                return default(st.location)
            if isinstance(out, Tensor):
                return out.device
            if isinstance(out, str | Device):
                return default(out)
            raise TypeError(f"axonic.load: map_location returned a {type(out).__name__}; "
                            "expected a Tensor, a device, a str or None")
        return place
    raise TypeError(f"axonic.load: map_location must be None, a str, a device, a dict or a "
                    f"callable; got {type(map_location).__name__}")
