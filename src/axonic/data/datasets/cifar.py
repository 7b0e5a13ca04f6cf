"""CIFAR-10 from its binary version (``data_batch_1.bin`` ... ``test_batch.bin``).

Each record is 3073 bytes: one label byte (0-9), then 1024 red, 1024 green and 1024
blue pixel bytes of a 32x32 image, row by row. The binary version needs no unpickling.
"""

from __future__ import annotations

from pathlib import Path

import numpy as np

from axonic.data.dataset import TensorDataset
from axonic.data.datasets.download import cache_dir, download_url, extract_tar

RECORD = 1 + 3 * 32 * 32


def read_cifar_binary(path, num_classes: int = 10):
    """Images ``(N, 3, 32, 32)`` uint8 and labels ``(N,)`` int64 from one batch file.

    >>> import tempfile, os
    >>> p = os.path.join(tempfile.mkdtemp(), "b.bin")
    >>> _ = open(p, "wb").write(bytes([3]) + bytes(3072))
    >>> x, y = read_cifar_binary(p)
    >>> x.shape, y.tolist()
    ((1, 3, 32, 32), [3])
    """
    raw = np.fromfile(path, dtype=np.uint8)
    if raw.size == 0 or raw.size % RECORD:
        raise ValueError(f"read_cifar_binary: {path} has {raw.size} bytes, not a positive "
                         f"multiple of the {RECORD}-byte record (1 label + 3072 pixels)")
    records = raw.reshape(-1, RECORD)
    labels = records[:, 0].astype(np.int64)
    if labels.max() >= num_classes:
        bad = int(np.argmax(labels >= num_classes))
        raise ValueError(f"read_cifar_binary: record {bad} of {path} has label "
                         f"{int(labels[bad])}, outside 0..{num_classes - 1}; is this a "
                         "CIFAR-10 binary batch file?")
    return records[:, 1:].reshape(-1, 3, 32, 32), labels


class CIFAR10(TensorDataset):
    """CIFAR-10: ``(3, 32, 32)`` float32 images in [0, 1] and int64 labels.

    Batch files are looked for in ``root`` and ``root/cifar-10-batches-bin``; with
    ``download=True`` the binary archive is fetched into ``root`` (default
    ``cache_dir()/CIFAR10``), checked against its published MD5 and extracted.
    """

    url = "https://www.cs.toronto.edu/~kriz/cifar-10-binary.tar.gz"
    md5 = "c32a1d4ab5d03f1284b67883e8d87530"
    classes = ["airplane", "automobile", "bird", "cat", "deer", "dog", "frog", "horse", "ship",
               "truck"]

    def __init__(self, root=None, train=True, transform=None, target_transform=None,
                 download=False, opener=None):
        self.root = Path(root) if root is not None else cache_dir() / "CIFAR10"
        self.train = bool(train)
        names = [f"data_batch_{i}.bin" for i in range(1, 6)] if train else ["test_batch.bin"]
        folder = self._folder(names)
        if folder is None and download:
            archive = download_url(self.url, self.root, md5=self.md5, opener=opener)
            extract_tar(archive, self.root)
            folder = self._folder(names)
        if folder is None:
            raise FileNotFoundError(
                f"CIFAR10: {names} not found in {self.root} or "
                f"{self.root / 'cifar-10-batches-bin'}; pass download=True to fetch them"
            )
        parts = [read_cifar_binary(folder / n) for n in names]
        x = np.concatenate([p[0] for p in parts]).astype(np.float32)
        x *= np.float32(1 / 255)
        y = np.concatenate([p[1] for p in parts])
        super().__init__(x, y, transform=transform, target_transform=target_transform)
        self.targets = self.tensors[1]

    def _folder(self, names):
        for place in (self.root, self.root / "cifar-10-batches-bin"):
            if all((place / n).is_file() for n in names):
                return place
        return None
