"""The public names of the installed PyTorch and which of them axonic lacks.

``python tests/compat/api_surface.py`` prints the missing names per namespace;
``tests/test_api_surface.py`` checks them against ``tests/api_surface_allowlist.json``.
"""

from __future__ import annotations

import importlib
import json
import pathlib
import pkgutil
import types

ALLOWLIST = pathlib.Path(__file__).resolve().parents[1] / "api_surface_allowlist.json"

# namespace -> (torch module path, axonic module path); "Tensor" compares the classes
NAMESPACES = {
    "torch": ("torch", "axonic"),
    "torch.nn": ("torch.nn", "axonic.nn"),
    "torch.nn.functional": ("torch.nn.functional", "axonic.nn.functional"),
    "torch.optim": ("torch.optim", "axonic.optim"),
    "torch.utils.data": ("torch.utils.data", "axonic.utils.data"),
    "Tensor": ("torch", "axonic"),
}


def _is_public(module, name: str) -> bool:
    """A name a user of ``module`` reaches for: not private, not a borrowed stdlib module or
    typing helper (``torch.os``, ``torch.nn.functional.Optional``)."""
    if name.startswith("_") and name != "_assert":
        return False
    obj = getattr(module, name, None)
    if isinstance(obj, types.ModuleType):
        return obj.__name__.startswith("torch.")
    owner = getattr(obj, "__module__", None) or ""
    return not owner.startswith(("typing", "collections", "builtins", "enum", "abc"))


def torch_names(namespace: str) -> list[str]:
    """The public names of ``namespace`` in the installed PyTorch."""
    torch_path, _ = NAMESPACES[namespace]
    module = importlib.import_module(torch_path)
    if namespace == "Tensor":
        return sorted(n for n in dir(module.Tensor) if not n.startswith("_"))
    # every public subpackage, imported or not, so the list doesn't depend on what the
    # process happened to import before (torch.onnx appears in dir(torch) once imported)
    subpackages = {m.name for m in pkgutil.iter_modules(getattr(module, "__path__", []))
                   if not m.name.startswith("_")}
    names = set(getattr(module, "__all__", ())) | set(dir(module))
    return sorted(n for n in names | subpackages if n in subpackages or _is_public(module, n))


def missing_names(namespace: str) -> list[str]:
    """The names of ``namespace`` that axonic's counterpart does not have."""
    _, axonic_path = NAMESPACES[namespace]
    try:
        target = importlib.import_module(axonic_path)
    except ImportError:
        return torch_names(namespace)
    if namespace == "Tensor":
        target = target.Tensor
    return [n for n in torch_names(namespace) if not _has(target, n)]


def _has(target, name: str) -> bool:
    try:
        getattr(target, name)
    except Exception:  # a lazy attribute that fails to import counts as missing
        return False
    return True


def load_allowlist() -> dict[str, dict[str, str]]:
    """namespace -> {name: reason} from the checked-in allow-list."""
    groups = json.loads(ALLOWLIST.read_text())
    out: dict[str, dict[str, str]] = {ns: {} for ns in NAMESPACES}
    for group in groups:
        for name in group["names"]:
            out[group["namespace"]][name] = group["reason"]
    return out


if __name__ == "__main__":
    total = 0
    for ns in NAMESPACES:
        miss = missing_names(ns)
        total += len(miss)
        print(f"{ns}: {len(miss)} of {len(torch_names(ns))} missing")
        print("  " + " ".join(miss))
    print("total missing:", total)
