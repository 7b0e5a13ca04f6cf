"""Run a PyTorch script or module with ``torch`` mapped to axonic (``python -m axonic.compat``).

>>> import pathlib, tempfile
>>> from axonic.compat import run_script
>>> path = pathlib.Path(tempfile.mkdtemp()) / "hello.py"
>>> _ = path.write_text("import torch\\nresult = torch.arange(4).sum().item()\\n")
>>> run_script(str(path))["result"]
6
"""

import os
import runpy
import sys

from axonic.compat import torch as shim

USAGE = """usage: python -m axonic.compat run SCRIPT.py [ARGS ...]
       python -m axonic.compat run -m MODULE [ARGS ...]

Runs an existing PyTorch program with `import torch` mapped to axonic."""


def run_script(path, argv=()):
    """Run the file ``path`` as ``__main__`` with ``sys.argv = [path, *argv]`` under the
    shim; returns the script's globals."""
    if not os.path.isfile(path):
        raise FileNotFoundError(f"axonic.compat run: no script file {path!r}")
    with _as_program([path, *argv], os.path.dirname(os.path.abspath(path))):
        return runpy.run_path(path, run_name="__main__")


def run_module(name, argv=()):
    """Run the module ``name`` as ``python -m name`` would, under the shim."""
    with _as_program([name, *argv], os.getcwd()):
        return runpy.run_module(name, run_name="__main__", alter_sys=True)


class _as_program:
    """sys.argv, sys.path[0] and the shim as the program expects them; restored after."""

    def __init__(self, argv, directory):
        self.argv, self.directory = list(argv), directory

    def __enter__(self):
        self.saved = sys.argv[:], sys.path[:]
        sys.argv[:] = self.argv
        sys.path.insert(0, self.directory)
        self.mine = shim.install()

    def __exit__(self, *exc):
        if self.mine:
            shim.uninstall()
        sys.argv[:], sys.path[:] = self.saved


def main(argv=None):
    """The command line: ``run SCRIPT [ARGS]`` or ``run -m MODULE [ARGS]``; returns the
    exit status."""
    argv = sys.argv[1:] if argv is None else list(argv)
    if argv[:1] in ([], ["-h"], ["--help"]):
        print(USAGE)
        return 0 if argv else 2
    if argv[0] != "run" or len(argv) < 2 or argv[1:] == ["-m"]:
        print(f"axonic.compat: expected `run SCRIPT.py [ARGS]`, got {' '.join(argv)!r}\n\n"
              f"{USAGE}", file=sys.stderr)
        return 2
    if argv[1] == "-m":
        run_module(argv[2], argv[3:])
        return 0
    try:
        run_script(argv[1], argv[2:])
    except FileNotFoundError as err:
        if str(err).startswith("axonic.compat run:"):
            print(err, file=sys.stderr)
            return 2
        raise
    return 0
