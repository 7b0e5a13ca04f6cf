"""Fetching dataset files once into a cache, verified by checksum.

Files land in ``cache_dir()`` (``$AXONIC_HOME/datasets``, default
``~/.cache/axonic/datasets``). A download goes to a temporary file in the target
folder, is hashed while it streams, and is renamed into place only when its SHA256
(or MD5, where only that is published) matches, so an interrupted or corrupted
download never looks like a finished one.
"""

from __future__ import annotations

import hashlib
import os
import tempfile
from pathlib import Path

_CHUNK = 1 << 20


def cache_dir() -> Path:
    """The folder datasets are downloaded to: ``$AXONIC_HOME/datasets`` or
    ``~/.cache/axonic/datasets``."""
    home = os.environ.get("AXONIC_HOME") or os.path.join(os.path.expanduser("~"), ".cache",
                                                         "axonic")
    return Path(home) / "datasets"


def file_digest(path, algorithm: str = "sha256") -> str:
    """The hex digest of a file's bytes."""
    h = hashlib.new(algorithm)
    with open(path, "rb") as f:
        for chunk in iter(lambda: f.read(_CHUNK), b""):
            h.update(chunk)
    return h.hexdigest()


def _expected(sha256, md5):
    if sha256:
        return "sha256", sha256.lower()
    if md5:
        return "md5", md5.lower()
    return None, None


def download_url(url: str, root=None, filename: str | None = None, sha256: str | None = None,
                 md5: str | None = None, opener=None) -> Path:
    """Download ``url`` to ``root/filename`` unless a verified copy is already there.

    ``opener(url)`` returns a readable binary file object (``urllib.request.urlopen``
    by default; any ``file://`` URL works too). Raises ``RuntimeError`` naming the
    expected and actual checksum when they differ, leaving nothing behind.

    >>> import tempfile, pathlib, hashlib
    >>> d = pathlib.Path(tempfile.mkdtemp()); src = d / "a.bin"; _ = src.write_bytes(b"abc")
    >>> p = download_url(src.as_uri(), d / "cache", sha256=hashlib.sha256(b"abc").hexdigest())
    >>> p.read_bytes()
    b'abc'
    """
    root = Path(root) if root is not None else cache_dir()
    filename = filename or url.rstrip("/").rsplit("/", 1)[-1]
    target = root / filename
    algo, want = _expected(sha256, md5)
    if target.exists() and (algo is None or file_digest(target, algo) == want):
        return target
    root.mkdir(parents=True, exist_ok=True)
    if opener is None:
        import urllib.request  # lazily: it costs more to import than the rest of axonic.data

        opener = urllib.request.urlopen
    fd, tmp = tempfile.mkstemp(prefix=f".{filename}.", suffix=".part", dir=root)
    h = hashlib.new(algo) if algo else None
    try:
        with os.fdopen(fd, "wb") as out:
            try:
                response = opener(url)
            except OSError as e:
                raise RuntimeError(f"download_url: could not fetch {url}: {e}; download it by "
                                   f"hand into {root} or check the network") from e
            with response as src:
                for chunk in iter(lambda: src.read(_CHUNK), b""):
                    out.write(chunk)
                    if h is not None:
                        h.update(chunk)
        if h is not None and h.hexdigest() != want:
            raise RuntimeError(
                f"download_url: {algo} checksum mismatch for {url}: expected {want}, got "
                f"{h.hexdigest()}; the file was discarded (a partial or tampered download)"
            )
        os.replace(tmp, target)  # atomic: the target is either absent or complete
    finally:
        if os.path.exists(tmp):
            os.remove(tmp)
    return target


def extract_tar(archive, dest) -> Path:
    """Extract a (gzipped) tar archive into ``dest``, refusing links and paths that leave
    ``dest``."""
    import tarfile

    dest = Path(dest)
    dest.mkdir(parents=True, exist_ok=True)
    root = dest.resolve()
    with tarfile.open(archive) as tar:
        members = tar.getmembers()
        for m in members:
            inside = (root / m.name).resolve()
            if not (m.isfile() or m.isdir()) or root not in (inside, *inside.parents):
                raise RuntimeError(f"extract_tar: refusing unsafe member {m.name!r} in {archive}")
        for m in members:
            if m.isdir():
                (root / m.name).mkdir(parents=True, exist_ok=True)
                continue
            path = root / m.name
            path.parent.mkdir(parents=True, exist_ok=True)
            with tar.extractfile(m) as src, open(path, "wb") as out:
                for chunk in iter(lambda s=src: s.read(_CHUNK), b""):
                    out.write(chunk)
    return dest
