"""``torch.backends.cpu``: the instruction set PyTorch would report; axonic leaves it to NumPy.

>>> get_cpu_capability()
'DEFAULT'
"""


def get_cpu_capability() -> str:
    return "DEFAULT"
