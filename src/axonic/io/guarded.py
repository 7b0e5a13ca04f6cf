"""Reading untrusted files safely: regular files only, sizes checked before reading, paths
confined to a folder, JSON depth-limited, hashes streamed.

Every load path (``axonic.load``, checkpoint manifests and state) goes through here, so a
FIFO never blocks, a symlink is never followed out of its folder, a huge file is refused
before it is read and deeply nested JSON is an error, not a RecursionError.

>>> import os, tempfile
>>> d = tempfile.mkdtemp()
>>> with open(os.path.join(d, "a.json"), "w") as f:
...     _ = f.write('{"x": [1, 2]}')
>>> read_json_in(d, "a.json", max_bytes=1024)
{'x': [1, 2]}
"""

from __future__ import annotations

import hashlib
import json
import os
import re
import stat

MAX_JSON_BYTES = 64 * 2**20  # a manifest or state.json larger than this is not ours
MAX_JSON_DEPTH = 64  # axonic's own JSON nests < 12 deep; Python's parser fails near 1000
CHUNK = 2**20  # bytes per read while hashing
_NAME = re.compile(r"^[A-Za-z0-9_][A-Za-z0-9_.-]{0,127}$")


class UnsafeFileError(ValueError):
    """A file that is not a regular file, too large, outside its folder or badly formed."""


def check_name(name, where: str) -> str:
    """``name`` must be a plain file name (no folder, no ``..``, no leading dot)."""
    if not isinstance(name, str) or not _NAME.match(name) or ".." in name:
        raise UnsafeFileError(f"{where}: file name {name!r} is not a plain file name inside "
                              "the folder (no '/', '..' or leading '.')")
    return name


def open_regular(path, max_bytes: int | None = None, dir_fd: int | None = None) -> tuple:
    """Open ``path`` read-only without following a final symlink and without blocking on a
    FIFO; returns ``(fd, size)`` after checking it is a regular file of at most
    ``max_bytes``. The caller closes ``fd``."""
    flags = os.O_RDONLY | getattr(os, "O_NOFOLLOW", 0) | getattr(os, "O_NONBLOCK", 0)
    try:
        fd = os.open(path, flags, dir_fd=dir_fd)
    except FileNotFoundError:
        raise FileNotFoundError(f"no such file: {os.fspath(path)!r}") from None
    except OSError as e:  # ELOOP: a symlink; ENXIO: a socket
        raise UnsafeFileError(f"{os.fspath(path)!r} cannot be opened as a regular file "
                              f"({e.strerror}; symbolic links are not followed)") from None
    st = os.fstat(fd)
    if not stat.S_ISREG(st.st_mode):
        os.close(fd)
        raise UnsafeFileError(f"{os.fspath(path)!r} is not a regular file (a FIFO, device "
                              "or folder); only regular files are read")
    if max_bytes is not None and st.st_size > max_bytes:
        os.close(fd)
        raise UnsafeFileError(f"{os.fspath(path)!r} has {st.st_size} bytes, more than the "
                              f"{max_bytes} allowed")
    return fd, st.st_size


def read_fd(fd: int, size: int, sha256=None) -> bytes:
    """Read exactly ``size`` bytes from ``fd`` in chunks, feeding ``sha256`` as it goes."""
    buf = bytearray(size)
    view, got = memoryview(buf), 0
    while got < size:
        n = os.readv(fd, [view[got:got + CHUNK]])
        if n == 0:
            raise UnsafeFileError(f"file shrank while being read ({got} of {size} bytes)")
        if sha256 is not None:
            sha256.update(view[got:got + n])
        got += n
    return bytes(buf)


def read_in(folder_fd: int, name: str, size: int, where: str) -> tuple[bytes, str]:
    """Read the regular file ``name`` of an open folder, which must have exactly ``size``
    bytes; returns ``(data, sha256 hex)``."""
    fd, actual = open_regular(check_name(name, where), None, dir_fd=folder_fd)
    try:
        if actual != size:
            raise UnsafeFileError(f"{where}: {name} has {actual} bytes, the manifest says "
                                  f"{size} (truncated or overwritten)")
        h = hashlib.sha256()
        return read_fd(fd, size, h), h.hexdigest()
    finally:
        os.close(fd)


def json_depth_ok(data: bytes, max_depth: int = MAX_JSON_DEPTH) -> bool:
    """Whether the brackets of JSON text ``data`` nest at most ``max_depth`` deep (strings
    skipped), checked without recursion."""
    depth, in_str, esc = 0, False, False
    for b in data:
        if in_str:
            esc, in_str = (False, in_str) if esc else (b == 92, b != 34)
        elif b == 34:
            in_str = True
        elif b in (91, 123):
            depth += 1
            if depth > max_depth:
                return False
        elif b in (93, 125):
            depth -= 1
    return True


def parse_json(data: bytes, where: str, max_depth: int = MAX_JSON_DEPTH):
    """Parse JSON bytes with a nesting limit; any failure is an ``UnsafeFileError``."""
    if not json_depth_ok(data, max_depth):
        raise UnsafeFileError(f"{where} is JSON nested deeper than {max_depth} levels")
    try:
        return json.loads(data)
    except (ValueError, RecursionError) as e:
        raise UnsafeFileError(f"{where} is not valid JSON ({e})") from None


def read_json_in(folder, name: str, max_bytes: int = MAX_JSON_BYTES):
    """Parse the regular file ``folder/name`` as JSON (size- and depth-limited)."""
    dfd = os.open(folder, os.O_RDONLY)
    try:
        fd, size = open_regular(check_name(name, os.fspath(folder)), max_bytes, dir_fd=dfd)
    finally:
        os.close(dfd)
    try:
        data = read_fd(fd, size)
    finally:
        os.close(fd)
    return parse_json(data, os.path.join(os.fspath(folder), name))
