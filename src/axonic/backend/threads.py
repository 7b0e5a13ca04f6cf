"""The intra-op thread pool: large elementwise kernels and copies split across cores.

BLAS already runs a GEMM on several cores; everything else (ReLU, pooling, im2col copies,
optimizer updates) would run on one. NumPy's ufuncs and copies release the GIL, so a large
array cut into one chunk per thread runs on every core: ``parallel_apply`` does that for
elementwise kernels, ``parallel_for`` for kernels that are independent along one axis (a
batch). Each chunk runs exactly the code the whole array would, so results are bit for bit
those of the plain call. Small arrays, one thread, CuPy arrays and calls from inside the
pool run as one plain call; so does everything unless ``AXONIC_INTRA_OP=1`` is set (or
``ENABLED`` made True): on the 2-core machine it was measured on, splitting was slower.

The pool has as many threads as BLAS (``threadpoolctl`` reads that, when installed; else
``OMP_NUM_THREADS`` or the cores this process may use); ``axonic.set_num_threads`` sets both,
as ``torch.set_num_threads`` does.

>>> import numpy as np
>>> x = np.linspace(-1.0, 1.0, 1 << 18)  # split only when ENABLED
>>> out = parallel_apply(lambda o, a: np.maximum(a, 0, out=o), np.empty_like(x), x)
>>> bool((out == np.maximum(x, 0)).all())
True
"""

from __future__ import annotations

import os
import threading
import warnings

import numpy as np

# Below this many elements one thread is faster: waking a worker costs tens of microseconds,
# about what ReLU spends on 64k float32 elements. Provisional: bench/threads.py --kernels
# found no crossing on a 2-core machine that other jobs kept busy (see docs/ARCHITECTURE.md).
MIN_PARALLEL_SIZE = 1 << 17
# Off unless AXONIC_INTRA_OP=1: on the 2-core machine of bench/threads.py --steps, splitting
# made the CNN and MLP training steps 4-9 % slower at 2 threads (OpenBLAS's threads spin
# between GEMMs and keep the second core), and no quiet run showed a gain. Off, every
# kernel runs as one plain call, as before.
ENABLED = os.environ.get("AXONIC_INTRA_OP", "0") == "1"
# chunk boundaries fall on multiples of this many elements (whole cache lines for float32)
_ALIGN = 16
# Elements per block of a many-pass kernel (``parallel_apply(..., block=CACHE_BLOCK)``): six
# float32 arrays of 64k elements (1.5 MiB) stay in a 2 MiB L2 cache between passes. Adam's
# 13 passes over a 784x512 weight: 1621 us whole, 1144 us in blocks of 64k, 1209 us of 32k
# (bench/threads.py --kernels).
CACHE_BLOCK = 1 << 16

_num_threads: int | None = None
_pool = None  # a concurrent.futures.ThreadPoolExecutor, made on first use
_lock = threading.Lock()
_inside = threading.local()  # set in the pool's threads and while a caller runs its chunk


def _blas_threads() -> int | None:
    """The thread count of the BLAS NumPy uses, or None without threadpoolctl."""
    try:
        from threadpoolctl import threadpool_info
    except ImportError:
        return None
    counts = [p["num_threads"] for p in threadpool_info() if p.get("user_api") == "blas"]
    return max(counts) if counts else None


def _default_threads() -> int:
    """BLAS's setting, else ``OMP_NUM_THREADS``, else the cores this process may run on."""
    blas = _blas_threads()
    if blas:
        return blas
    env = os.environ.get("OMP_NUM_THREADS", "").split(",")[0].strip()
    if env.isdigit() and int(env) > 0:
        return int(env)
    try:
        return len(os.sched_getaffinity(0))
    except AttributeError:  # not Linux
        return os.cpu_count() or 1


def get_num_threads() -> int:
    """The number of threads axonic's elementwise kernels (and BLAS) use, as
    ``torch.get_num_threads``.

    >>> get_num_threads() >= 1
    True
    """
    global _num_threads
    if _num_threads is None:
        _num_threads = _default_threads()
    return _num_threads


def set_num_threads(n: int) -> None:
    """Use ``n`` threads for axonic's elementwise kernels and for BLAS, as
    ``torch.set_num_threads``. Setting BLAS's count needs ``threadpoolctl``
    (``pip install 'axonic[threads]'``); without it only axonic's own pool changes,
    with a warning.

    >>> before = get_num_threads()
    >>> set_num_threads(1)
    >>> get_num_threads()
    1
    >>> set_num_threads(before)
    """
    global _num_threads, _pool
    if isinstance(n, bool) or not isinstance(n, int | np.integer) or n < 1:
        raise ValueError(f"set_num_threads: expected a positive int, got {n!r}")
    n = int(n)
    try:
        from threadpoolctl import threadpool_limits
    except ImportError:
        warnings.warn("set_num_threads: threadpoolctl is not installed, so BLAS keeps its "
                      "thread count; pip install 'axonic[threads]'", RuntimeWarning, stacklevel=2)
    else:
        threadpool_limits(n, user_api="blas")  # not used as a context: the limit stays
    with _lock:
        old, _pool = _pool, None
        _num_threads = n
    if old is not None:
        old.shutdown(wait=True)


def _mark_inside() -> None:
    _inside.active = True


def _executor():
    """The pool: one thread fewer than ``get_num_threads()`` (the caller is the other)."""
    global _pool
    with _lock:
        if _pool is None:
            from concurrent.futures import ThreadPoolExecutor  # not at import: it takes ~10 ms

            _pool = ThreadPoolExecutor(max(get_num_threads() - 1, 1),
                                       thread_name_prefix="axonic-intra-op",
                                       initializer=_mark_inside)
        return _pool


def _forget_pool() -> None:
    """In a forked child the pool's threads do not exist: start a new pool when needed."""
    global _pool, _lock
    _pool, _lock = None, threading.Lock()


if hasattr(os, "register_at_fork"):
    os.register_at_fork(after_in_child=_forget_pool)


def _threads_for(size: int, length: int) -> int:
    """How many chunks to cut ``length`` rows of ``size`` elements in all into (1: plain)."""
    if (not ENABLED or size < MIN_PARALLEL_SIZE or length < 2
            or getattr(_inside, "active", False)):
        return 1
    # each chunk at least half the threshold: more threads than that only add wake-ups
    return min(get_num_threads(), length, size // max(MIN_PARALLEL_SIZE // 2, 1))


def _bounds(length: int, parts: int, align: int = 1) -> list[tuple[int, int]]:
    """``parts`` contiguous ranges covering ``range(length)``, cut at multiples of ``align``."""
    cuts = [min(length, (length * i // parts) // align * align) for i in range(parts)]
    cuts.append(length)
    return [(a, b) for a, b in zip(cuts, cuts[1:]) if b > a]


class _Chunk:
    """One range of a split call: claimed by whichever thread starts it first."""

    __slots__ = ("bounds", "claim", "done", "error")

    def __init__(self, bounds):
        self.bounds, self.claim, self.done, self.error = bounds, threading.Lock(), None, None

    def work(self, fn) -> None:
        if not self.claim.acquire(blocking=False):
            return  # another thread has it
        try:
            fn(*self.bounds)
        except BaseException as err:  # raised in the caller's thread once all have finished
            self.error = err
        finally:
            if self.done is not None:
                self.done.set()


def _run(fn, ranges) -> None:
    """``fn(a, b)`` for every range at once: the first on this thread, the others on the
    pool; this thread then takes any range no pool thread has started (on a busy machine
    a worker may wait for a core), so a split call is never much slower than a plain one."""
    chunks = [_Chunk(r) for r in ranges]
    pool = _executor()
    for c in chunks[1:]:
        c.done = threading.Event()
        pool.submit(c.work, fn)
    _inside.active = True
    try:
        for c in chunks:
            c.work(fn)
    finally:
        _inside.active = False
    for c in chunks[1:]:  # every chunk finishes before returning: none may write afterwards
        c.done.wait()
    for c in chunks:
        if c.error is not None:
            raise c.error


def parallel_for(fn, rows) -> None:
    """Call ``fn(start, stop)`` over the first axis of the array ``rows``, cut into one range
    per thread, the ranges running at once, when ``rows`` is a large enough NumPy array;
    else ``fn(0, len(rows))`` once. ``fn`` must treat its rows independently of the others
    (a batch's samples) and release the GIL (NumPy calls on numeric arrays do).

    >>> import numpy as np
    >>> x, out = np.arange(8.0).reshape(4, 2), np.empty((4, 2))
    >>> def double(a, b):
    ...     np.multiply(x[a:b], 2, out=out[a:b])
    >>> parallel_for(double, x)
    >>> out[:, 0].tolist()
    [0.0, 4.0, 8.0, 12.0]
    """
    length = rows.shape[0] if rows.ndim else 1
    parts = _threads_for(rows.size, length) if isinstance(rows, np.ndarray) else 1
    if parts < 2:
        fn(0, length)
        return
    _run(fn, _bounds(length, parts))


def _splittable(out, arrays) -> bool:
    """NumPy arrays of one shape that overlap only where they are the same array."""
    if not isinstance(out, np.ndarray) or out.ndim == 0:
        return False
    for a in arrays:
        if not isinstance(a, np.ndarray) or a.shape != out.shape:
            return False
    group = (out, *arrays)
    for i, a in enumerate(group):
        for b in group[:i]:
            same = (a.__array_interface__["data"][0] == b.__array_interface__["data"][0]
                    and a.strides == b.strides)
            if not same and np.may_share_memory(a, b):
                return False
    return True


def _blocked(fn, block):
    """``fn`` on flat slices ``[i, j)`` of C-contiguous arrays, in blocks of ``block``."""
    def run(i, j, flat):
        for a in range(i, j, block):
            b = min(a + block, j)
            fn(*(x[a:b] for x in flat))
    return run


def parallel_blocks(fn, size: int, block: int = CACHE_BLOCK) -> None:
    """Call ``fn(start, stop)`` over ``range(size)`` in ranges of at most ``block``
    elements, the threads' shares of them at once (``parallel_apply``'s cutting, for
    kernels that walk raw addresses, such as :mod:`axonic.backend.vector`'s). ``fn`` must
    treat each element independently of the others and release the GIL.

    >>> seen = []
    >>> parallel_blocks(lambda a, b: seen.append((a, b)), 10, block=4)
    >>> sorted(seen)
    [(0, 4), (4, 8), (8, 10)]
    """
    def run(i, j):
        for a in range(i, j, block):
            fn(a, min(a + block, j))

    parts = _threads_for(size, size) if size >= 2 * block else 1
    if parts < 2:
        run(0, size)
    else:
        _run(run, _bounds(size, parts, block))


def parallel_apply(fn, out, *arrays, block: int | None = None):
    """Run the elementwise kernel ``fn(out, *arrays)`` on chunks of its arrays at once, one
    chunk per thread; returns ``out``. ``fn`` must compute each element from the elements
    at the same position only (ufuncs, copies, in-place updates: no reductions). Arrays of
    one shape are cut flat when all are C-contiguous, else along the first axis; anything
    else (broadcasting, partial overlap, CuPy, small arrays) runs as ``fn(out, *arrays)``.

    ``block`` (elements) is for kernels of many passes, such as an optimizer's update: each
    thread's part of C-contiguous arrays then runs ``block`` elements at a time, so the
    arrays stay in the core's cache from one pass to the next (``CACHE_BLOCK`` is a good
    value). Each element still sees exactly the same operations, so results do not change.

    >>> import numpy as np
    >>> a, b = np.ones(5), np.arange(5.0)
    >>> parallel_apply(lambda o, x, y: np.add(x, y, out=o), np.empty(5), a, b).tolist()
    [1.0, 2.0, 3.0, 4.0, 5.0]
    """
    blocked = block is not None and getattr(out, "size", 0) >= 2 * block
    if ((not blocked and (not ENABLED or out.size < MIN_PARALLEL_SIZE
                          or get_num_threads() < 2 or getattr(_inside, "active", False)))
            or not _splittable(out, arrays)):
        fn(out, *arrays)
        return out
    group = (out, *arrays)
    if all(a.flags.c_contiguous for a in group):
        flat = [a.reshape(-1) for a in group]
        parts = _threads_for(out.size, out.size)
        if blocked:
            run = _blocked(fn, block)
            if parts < 2:
                run(0, out.size, flat)
            else:
                _run(lambda i, j: run(i, j, flat), _bounds(out.size, parts, block))
            return out
        _run(lambda i, j: fn(*(a[i:j] for a in flat)), _bounds(out.size, parts, _ALIGN))
        return out
    if not ENABLED or out.size < MIN_PARALLEL_SIZE or get_num_threads() < 2:
        fn(out, *arrays)
        return out
    parts = _threads_for(out.size, out.shape[0])
    if parts < 2:
        fn(out, *arrays)
        return out
    _run(lambda i, j: fn(*(a[i:j] for a in group)), _bounds(out.shape[0], parts))
    return out
