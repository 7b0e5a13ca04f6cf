"""``torch.backends.mps``: axonic has no Metal backend, so both answers are False.

>>> is_available(), is_built()
(False, False)
"""


def is_available() -> bool:
    return False


def is_built() -> bool:
    return False
