"""``ImageFolder``: images sorted into one sub-folder per class (read with Pillow)."""

from __future__ import annotations

import os
from pathlib import Path

import numpy as np

from axonic.autograd.tensor import _make
from axonic.data.dataset import Dataset

IMG_EXTENSIONS = (".jpg", ".jpeg", ".png", ".ppm", ".bmp", ".pgm", ".tif", ".tiff", ".webp",
                  ".gif")


def pil_loader(path, mode="RGB") -> np.ndarray:
    """An image file as a ``(C, H, W)`` float32 array in [0, 1]."""
    from PIL import Image

    with Image.open(path) as img:
        a = np.asarray(img.convert(mode))
    a = a[:, :, None] if a.ndim == 2 else a
    out = np.ascontiguousarray(a.transpose(2, 0, 1), dtype=np.float32)
    out *= np.float32(1 / 255)
    return out


class ImageFolder(Dataset):
    """Samples ``(image, class_index)`` from ``root/<class>/<image>``.

    Classes are the sub-folder names, sorted; ``class_to_idx`` maps them to indices and
    ``samples`` lists ``(path, index)`` pairs. Images are read lazily, converted to
    ``mode`` ('RGB' or 'L') and returned as ``(C, H, W)`` float32 tensors in [0, 1], after
    ``transform`` (which sees one image; batch transforms accept one too). Images of
    different sizes need a ``Resize`` transform before they can be batched.
    """

    def __init__(self, root, transform=None, target_transform=None, extensions=IMG_EXTENSIONS,
                 mode="RGB", loader=None):
        self.root = Path(root)
        if not self.root.is_dir():
            raise FileNotFoundError(f"ImageFolder: {self.root} is not a directory")
        self.classes = sorted(e.name for e in os.scandir(self.root) if e.is_dir())
        if not self.classes:
            raise FileNotFoundError(f"ImageFolder: no class folders in {self.root}; expected "
                                    "root/<class name>/<image files>")
        self.class_to_idx = {c: i for i, c in enumerate(self.classes)}
        ext = tuple(e.lower() for e in extensions)
        self.samples = [
            (str(Path(dirpath) / f), self.class_to_idx[c])
            for c in self.classes
            for dirpath, _, files in sorted(os.walk(self.root / c, followlinks=True))
            for f in sorted(files) if f.lower().endswith(ext)
        ]
        if not self.samples:
            raise FileNotFoundError(f"ImageFolder: found no files with extensions {ext} under "
                                    f"{self.root}")
        self.targets = [t for _, t in self.samples]
        self.transform = transform
        self.target_transform = target_transform
        self.mode = mode
        self.loader = loader or pil_loader

    def __len__(self) -> int:
        return len(self.samples)

    def __getitem__(self, index):
        path, target = self.samples[index]
        img = self.loader(path, self.mode) if self.loader is pil_loader else self.loader(path)
        img = _make(np.asarray(img)) if isinstance(img, np.ndarray) else img
        if self.transform is not None:
            img = self.transform(img)
        if self.target_transform is not None:
            target = self.target_transform(target)
        return img, target
