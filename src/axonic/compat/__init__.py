"""``axonic.compat``: run existing PyTorch programs on axonic.

``axonic.compat.torch`` maps ``import torch`` (and its submodules) onto axonic; from a shell,
``python -m axonic.compat run script.py [args]`` runs a PyTorch script that way in one line.
See docs/COMPAT.md for what is supported and what differs.

>>> from axonic.compat import torch as shim
>>> with shim.installed() as torch:
...     torch.ones(3).sum().item()
3.0
"""

from axonic.compat import torch
from axonic.compat.run import run_module, run_script
