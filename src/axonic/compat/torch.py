"""Run PyTorch code on axonic: ``import torch`` (and ``torch.nn``, ``torch.utils.data`` ...)
resolves to axonic while the shim is installed.

``torch.<path>`` maps to ``axonic.<path>`` (with the few renames in ``RENAMES``); the module
``torch`` the program sees is a thin view of axonic's whose attributes are axonic's own
objects, so ``class Net(torch.nn.Module)`` is an axonic Module. A name axonic lacks raises
an AttributeError (or ModuleNotFoundError) that names the torch name, so ``hasattr`` and
``try: import ...`` keep their meaning. ``uninstall`` puts back whatever ``torch`` modules
were imported before (real PyTorch included), so both can run in one process.

>>> import axonic.compat.torch as shim
>>> with shim.installed():
...     import torch
...     import torch.nn.functional as F
...     y = F.relu(torch.tensor([-1.0, 2.0]))
>>> type(y).__module__.startswith("axonic")
True
"""

import contextlib
import importlib
import importlib.abc
import importlib.machinery
import sys
import types

__all__ = ["MissingTorchName", "install", "installed", "is_installed", "uninstall"]

# torch module paths whose axonic counterpart lives under another name (first match wins);
# any other ``torch.a.b`` is ``axonic.a.b``.
RENAMES = {"torch.utils.data": "axonic.data", "torch.cuda.amp": "axonic.amp"}

_DOCS = "see docs/COMPAT.md for what axonic supports"


class MissingTorchName(AttributeError):
    """A ``torch`` name a program used that axonic does not provide."""


def _counterparts(torch_name):
    """The axonic module names to try, in order, for the torch module ``torch_name``."""
    names = ["axonic" + torch_name[len("torch"):]]
    for prefix, target in RENAMES.items():
        if torch_name == prefix or torch_name.startswith(prefix + "."):
            names.append(target + torch_name[len(prefix):])
    return names


def _is_parent_of_rename(torch_name):
    return any(prefix.startswith(torch_name + ".") for prefix in RENAMES)


def _resolve(torch_name):
    """The axonic module behind ``torch_name``; a bare namespace for a parent of a rename
    (``torch.utils`` when axonic has no ``utils``); None when there is none."""
    for name in _counterparts(torch_name):
        try:
            return importlib.import_module(name)
        except ModuleNotFoundError as err:
            if err.name is None or not (name + ".").startswith(err.name + "."):
                raise  # a module that exists failed on an import of its own
    if _is_parent_of_rename(torch_name):
        return types.ModuleType(_counterparts(torch_name)[0])
    return None


class TorchView(types.ModuleType):
    """``torch.<path>`` as a program sees it: reads and writes go to the axonic module."""

    def __init__(self, torch_name, target):
        super().__init__(torch_name)
        object.__setattr__(self, "_axonic_module", target)

    def __getattr__(self, name):
        if name == "__all__":  # `from torch.nn import *` takes axonic's public names
            return _public_names(object.__getattribute__(self, "_axonic_module"))
        if name.startswith("__") and name.endswith("__"):
            raise AttributeError(name)
        value = _lookup(object.__getattribute__(self, "_axonic_module"), name)
        if value is _MISSING or _is_axonic_module(value):
            return self._submodule(name)
        return value

    def _submodule(self, name):
        full = f"{self.__name__}.{name}"
        view = sys.modules.get(full)
        if not isinstance(view, TorchView):
            module = _resolve(full)
            if module is None:
                target = object.__getattribute__(self, "_axonic_module")
                raise MissingTorchName(f"{full} is not available on axonic "
                                       f"({target.__name__} has no {name!r}); {_DOCS}")
            view = _view(full, module)
            if is_installed():
                sys.modules[full] = view
        object.__setattr__(self, name, view)  # later reads skip __getattr__
        return view

    def __setattr__(self, name, value):
        # the import system records submodules and its own dunders here; flags such as
        # torch.backends.cudnn.benchmark = True go to axonic
        if isinstance(value, TorchView) or (name.startswith("__") and name.endswith("__")):
            object.__setattr__(self, name, value)
        else:
            setattr(object.__getattribute__(self, "_axonic_module"), name, value)

    def __dir__(self):
        return sorted(set(dir(object.__getattribute__(self, "_axonic_module"))))

    def __repr__(self):
        target = object.__getattribute__(self, "_axonic_module")
        return f"<module {self.__name__!r} (axonic: {target.__name__!r})>"


_MISSING = object()


def _view(torch_name, module):
    """A TorchView with what the import system expects of a package."""
    view = TorchView(torch_name, module)
    view.__spec__ = importlib.machinery.ModuleSpec(torch_name, None, is_package=True)
    view.__path__, view.__package__ = [], torch_name
    return view


def _public_names(module):
    names = getattr(module, "__all__", None)
    if names is None:
        names = [n for n in vars(module) if not n.startswith("_")
                 and not isinstance(vars(module)[n], types.ModuleType)]
    return list(names)


def _lookup(module, name):
    try:
        return getattr(module, name)
    except (AttributeError, ModuleNotFoundError):  # a lazy axonic package may not exist
        return _MISSING


def _is_axonic_module(value):
    return isinstance(value, types.ModuleType) and value.__name__.startswith("axonic")


class _TorchFinder(importlib.abc.MetaPathFinder, importlib.abc.Loader):
    """Answers every ``torch`` / ``torch.*`` import with a TorchView of axonic's module."""

    def find_spec(self, fullname, path=None, target=None):
        if fullname != "torch" and not fullname.startswith("torch."):
            return None
        module = _resolve(fullname)
        if module is None:
            tried = " or ".join(_counterparts(fullname))
            raise ModuleNotFoundError(
                f"No module named {fullname!r} on axonic (no {tried}); {_DOCS}", name=fullname)
        spec = importlib.machinery.ModuleSpec(fullname, self, is_package=True)
        spec.axonic_module = module
        return spec

    def create_module(self, spec):
        return TorchView(spec.name, spec.axonic_module)

    def exec_module(self, module):
        pass  # the axonic module is already imported


_state = {"finder": None, "saved": {}}


def _torch_entries():
    return [name for name in sys.modules if name == "torch" or name.startswith("torch.")]


def install():
    """Map ``torch`` to axonic for every import from now on; False if it already was.

    Modules named ``torch`` / ``torch.*`` already imported (real PyTorch) are set aside
    and come back on ``uninstall``.
    """
    if _state["finder"] is not None:
        return False
    _state["saved"] = {name: sys.modules.pop(name) for name in _torch_entries()}
    _state["finder"] = _TorchFinder()
    sys.meta_path.insert(0, _state["finder"])
    return True


def uninstall():
    """Undo ``install``: forget the axonic ``torch`` modules, restore the ones set aside."""
    finder = _state["finder"]
    if finder is None:
        return False
    if finder in sys.meta_path:
        sys.meta_path.remove(finder)
    for name in _torch_entries():
        if isinstance(sys.modules[name], TorchView):
            del sys.modules[name]
    sys.modules.update(_state["saved"])
    _state.update(finder=None, saved={})
    return True


def is_installed():
    """Whether ``import torch`` currently gives axonic."""
    return _state["finder"] is not None


@contextlib.contextmanager
def installed():
    """``with installed(): import torch`` gives axonic inside the block only.

    >>> import axonic.compat.torch as shim
    >>> with shim.installed():
    ...     import torch
    ...     torch.zeros(2).shape
    (2,)
    """
    mine = install()
    try:
        yield sys.modules.get("torch") or importlib.import_module("torch")
    finally:
        if mine:
            uninstall()
