"""MNIST and Fashion-MNIST from their IDX files (gzipped or not).

The IDX format: two zero bytes, a type code (0x08 uint8, 0x09 int8, 0x0B int16,
0x0C int32, 0x0D float32, 0x0E float64), the number of dims, each dim as a big-endian
uint32, then the values, big-endian, in C order.
"""

from __future__ import annotations

import gzip
import struct
from pathlib import Path

import numpy as np

from axonic.data.dataset import TensorDataset
from axonic.data.datasets.download import cache_dir, download_url

_IDX_TYPES = {0x08: ">u1", 0x09: ">i1", 0x0B: ">i2", 0x0C: ">i4", 0x0D: ">f4", 0x0E: ">f8"}


def _read_bytes(path) -> bytes:
    with open(path, "rb") as f:
        raw = f.read()
    if raw[:2] == b"\x1f\x8b":  # gzip magic, whatever the file is called
        try:
            raw = gzip.decompress(raw)
        except (OSError, EOFError) as e:
            raise ValueError(f"read_idx: {path} looks gzipped but can't be decompressed: "
                             f"{e}") from None
    return raw


def read_idx(path) -> np.ndarray:
    """The array stored in an IDX file (native byte order).

    >>> import tempfile, os
    >>> p = os.path.join(tempfile.mkdtemp(), "a.idx")
    >>> _ = open(p, "wb").write(bytes([0, 0, 8, 1, 0, 0, 0, 3, 7, 8, 9]))
    >>> read_idx(p).tolist()
    [7, 8, 9]
    """
    raw = _read_bytes(path)
    if len(raw) < 4:
        raise ValueError(f"read_idx: {path} is too short for an IDX header ({len(raw)} bytes, "
                         "need at least 4)")
    zero, code, ndim = struct.unpack(">HBB", raw[:4])
    if zero != 0 or code not in _IDX_TYPES:
        raise ValueError(f"read_idx: {path} is not an IDX file: magic number "
                         f"0x{raw[:4].hex()} (expected 0x0000 then a type code in "
                         f"{[hex(c) for c in _IDX_TYPES]} and the number of dims)")
    header = 4 + 4 * ndim
    if len(raw) < header:
        raise ValueError(f"read_idx: {path} declares {ndim} dims but ends inside the header "
                         f"({len(raw)} bytes, header needs {header})")
    dims = struct.unpack(f">{ndim}I", raw[4:header])
    dtype = np.dtype(_IDX_TYPES[code])
    want = int(np.prod(dims, dtype=np.int64)) * dtype.itemsize
    if len(raw) - header != want:
        raise ValueError(f"read_idx: {path} has {len(raw) - header} bytes of data but its "
                         f"header declares shape {tuple(dims)} of {dtype.name} "
                         f"({want} bytes); the file is truncated or corrupt")
    arr = np.frombuffer(raw, dtype=dtype, offset=header).reshape(dims)
    return arr.astype(dtype.newbyteorder("="))


class MNIST(TensorDataset):
    """The MNIST digits: ``(1, 28, 28)`` float32 images in [0, 1] and int64 labels.

    Files are looked for in ``root``, ``root/raw`` and ``root/MNIST/raw`` (the
    torchvision layout), gzipped or not; with ``download=True`` missing ones are fetched
    into ``root`` (default ``cache_dir()/MNIST``) and checked against their published
    MD5. ``transform`` applies to image batches (see ``axonic.data.transforms``).
    """

    mirror = "https://ossci-datasets.s3.amazonaws.com/mnist/"
    resources = {
        "train-images-idx3-ubyte": "f68b3c2dcbeaaa9fbdd348bbdeb94873",
        "train-labels-idx1-ubyte": "d53e105ee54ea40749a09fcbcd1e9432",
        "t10k-images-idx3-ubyte": "9fb629c4189551a2d022fa330f9573f3",
        "t10k-labels-idx1-ubyte": "ec29112dd5afa0611ce80d1b7f02629c",
    }
    classes = ["0 - zero", "1 - one", "2 - two", "3 - three", "4 - four", "5 - five",
               "6 - six", "7 - seven", "8 - eight", "9 - nine"]
    folder = "MNIST"

    def __init__(self, root=None, train=True, transform=None, target_transform=None,
                 download=False, opener=None):
        self.root = Path(root) if root is not None else cache_dir() / self.folder
        self.train = bool(train)
        prefix = "train" if train else "t10k"
        images = read_idx(self._find(f"{prefix}-images-idx3-ubyte", download, opener))
        labels = read_idx(self._find(f"{prefix}-labels-idx1-ubyte", download, opener))
        if images.ndim != 3 or labels.ndim != 1 or images.shape[0] != labels.shape[0]:
            raise ValueError(f"{type(self).__name__}: expected images (N, H, W) and labels (N,), "
                             f"got {images.shape} and {labels.shape}")
        x = images[:, None].astype(np.float32)
        x *= np.float32(1 / 255)
        super().__init__(x, labels.astype(np.int64), transform=transform,
                         target_transform=target_transform)
        self.targets = self.tensors[1]

    def _find(self, name: str, download: bool, opener) -> Path:
        places = [self.root, self.root / "raw", self.root / self.folder / "raw"]
        for place in places:
            for candidate in (place / name, place / f"{name}.gz"):
                if candidate.is_file():
                    return candidate
        if download:
            return download_url(self.mirror + name + ".gz", self.root, md5=self.resources[name],
                                opener=opener)
        raise FileNotFoundError(
            f"{type(self).__name__}: {name}[.gz] not found in {[str(p) for p in places]}; "
            "pass download=True to fetch it"
        )


class FashionMNIST(MNIST):
    """Fashion-MNIST: Zalando's clothing images in MNIST's format and layout."""

    mirror = "http://fashion-mnist.s3-website.eu-central-1.amazonaws.com/"
    resources = {
        "train-images-idx3-ubyte": "8d4fb7e6c68d591d4c3dfef9ec88bf0d",
        "train-labels-idx1-ubyte": "25c81989df183df01b3e8a0aad5dffbe",
        "t10k-images-idx3-ubyte": "bef4ecab320f06d8554ea6380940ec79",
        "t10k-labels-idx1-ubyte": "bb300cfdad3c16e7a12a480ee83cd310",
    }
    classes = ["T-shirt/top", "Trouser", "Pullover", "Dress", "Coat", "Sandal", "Shirt",
               "Sneaker", "Bag", "Ankle boot"]
    folder = "FashionMNIST"
