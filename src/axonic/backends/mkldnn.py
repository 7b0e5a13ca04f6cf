"""``torch.backends.mkldnn``: ``enabled`` is settable; axonic has no oneDNN path."""

enabled = True


def is_available() -> bool:
    return False
