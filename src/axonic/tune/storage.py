"""Where a study lives and how workers share it: an Optuna RDB storage (SQLite in the
study's folder by default, or ``postgresql://...``), heartbeats that let a rerun fail and
retry the trial a killed worker left running, and a lock so that several workers start
exactly the requested number of trials between them.

>>> import tempfile
>>> url = default_storage(tempfile.mkdtemp())
>>> url.startswith("sqlite:///") and url.endswith("study.db")
True
"""

from __future__ import annotations

import contextlib
import fcntl
import threading
import warnings
import zlib
from pathlib import Path


def default_storage(folder) -> str:
    """A SQLite database in the study's folder."""
    return f"sqlite:///{(Path(folder) / 'study.db').resolve()}"


def _retry(study, trial) -> None:
    """Heartbeat-stale (killed) trial: queue a copy with the same parameters."""
    study.enqueue_trial(trial.params, user_attrs={"retry_of": trial.number})


def open_storage(url: str, heartbeat_interval: int):
    """An ``optuna.storages.RDBStorage`` with heartbeats and retries of stale trials."""
    import optuna

    if url.startswith(("postgresql", "postgres")):
        try:
            import psycopg2  # noqa: F401  (SQLAlchemy's PostgreSQL driver)
        except ImportError:
            raise ImportError("a postgresql:// storage needs psycopg2: pip install "
                              "'axonic[tune-postgres]'") from None
    with warnings.catch_warnings():  # heartbeats are marked experimental in Optuna
        warnings.simplefilter("ignore", optuna.exceptions.ExperimentalWarning)
        return optuna.storages.RDBStorage(
            url, heartbeat_interval=heartbeat_interval, grace_period=2 * heartbeat_interval,
            heartbeat_stale_trial_callback=_retry)


@contextlib.contextmanager
def study_lock(storage, folder, study_name: str):
    """Hold a lock shared by every worker of the study: a PostgreSQL advisory lock for a
    PostgreSQL storage, otherwise a file lock in the study's folder (one machine)."""
    with _lock(storage.engine, folder, study_name):
        yield


@contextlib.contextmanager
def first_use_lock(url: str, folder, study_name: str):
    """``study_lock`` before the storage exists (its tables may not yet either)."""
    if not url.startswith(("postgresql", "postgres")):
        with _lock(None, folder, study_name):
            yield
        return
    import sqlalchemy

    engine = sqlalchemy.create_engine(url)
    try:
        with _lock(engine, folder, study_name):
            yield
    finally:
        engine.dispose()


@contextlib.contextmanager
def _lock(engine, folder, study_name: str):
    if engine is not None and engine.dialect.name == "postgresql":
        from sqlalchemy import text

        key = zlib.crc32(f"axonic-tune:{study_name}".encode())
        with engine.connect() as conn:
            conn.execute(text("SELECT pg_advisory_lock(:k)"), {"k": key})
            try:
                yield
            finally:
                conn.execute(text("SELECT pg_advisory_unlock(:k)"), {"k": key})
                conn.commit()
        return
    Path(folder).mkdir(parents=True, exist_ok=True)
    with open(Path(folder) / ".study.lock", "w") as f:
        fcntl.flock(f, fcntl.LOCK_EX)
        try:
            yield
        finally:
            fcntl.flock(f, fcntl.LOCK_UN)


def counted_trials(study) -> list:
    """The trials that count towards ``trials``: all but killed ones that were retried."""
    from optuna.trial import TrialState

    trials = study.get_trials(deepcopy=False)
    retried = {t.user_attrs.get("retry_of") for t in trials} - {None}
    return [t for t in trials if not (t.state == TrialState.FAIL and t.number in retried)]


def next_trial(study, storage, folder, total: int, fixed_params=None):
    """Under the study's lock: fail stale trials (queuing their retries), then ask for the
    next trial if fewer than ``total`` exist (a queued retry comes first); else None.
    ``fixed_params(study)`` may return the parameters of the next trial (grid search)."""
    import optuna
    from optuna.trial import TrialState

    with study_lock(storage, folder, study.study_name):
        with warnings.catch_warnings():
            warnings.simplefilter("ignore", optuna.exceptions.ExperimentalWarning)
            optuna.storages.fail_stale_trials(study)
        counted = counted_trials(study)
        waiting = any(t.state == TrialState.WAITING for t in counted)
        if not waiting:
            if len(counted) >= total:
                return None
            if fixed_params is not None:
                study.enqueue_trial(fixed_params(study))
        with warnings.catch_warnings():  # heartbeats run by our own thread, not optimize()
            warnings.simplefilter("ignore")
            return study.ask()


class Heartbeat:
    """Record a running trial's heartbeat every ``interval`` seconds in a daemon thread."""

    def __init__(self, storage, trial, interval: int):
        self.storage, self.trial_id, self.interval = storage, trial._trial_id, interval
        self.stop = threading.Event()
        self.thread = threading.Thread(target=self._beat, daemon=True)

    def _beat(self) -> None:
        while True:
            self.storage.record_heartbeat(self.trial_id)
            if self.stop.wait(self.interval):
                return

    def __enter__(self):
        self.thread.start()
        return self

    def __exit__(self, *exc):
        self.stop.set()
        self.thread.join()
