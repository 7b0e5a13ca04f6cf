"""Two worker processes share one study on a real PostgreSQL server (slow).

The server is the one named by AXONIC_TEST_POSTGRES_URL, or one started here from
Debian's PostgreSQL binaries (``apt-get install -y postgresql``) on loopback in a
temporary folder; without either the test fails and says what to install.
"""

import glob
import os
import shutil
import socket
import subprocess
import sys
import tempfile
from pathlib import Path

import optuna
import pytest

from axonic.tune.toml import _value as toml_value
from axonic.tune.toml import dumps

ROOT = Path(__file__).resolve().parents[2]
pytestmark = pytest.mark.slow


def _binary(name: str) -> str | None:
    found = shutil.which(name) or sorted(glob.glob(f"/usr/lib/postgresql/*/bin/{name}"))
    return found if isinstance(found, str) else (found[-1] if found else None)


def _free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


@pytest.fixture(scope="module")
def postgres_url():
    if os.environ.get("AXONIC_TEST_POSTGRES_URL"):
        yield os.environ["AXONIC_TEST_POSTGRES_URL"]
        return
    initdb, pg_ctl = _binary("initdb"), _binary("pg_ctl")
    if not (initdb and pg_ctl):
        pytest.fail("PostgreSQL is not installed: apt-get install -y postgresql (Debian), or "
                    "set AXONIC_TEST_POSTGRES_URL to a server's URL")
    import psycopg2  # noqa: F401  (the driver; pip install psycopg2-binary)

    base = tempfile.mkdtemp(prefix="axonic-pg-")
    os.chmod(base, 0o777)  # the server runs as the postgres user when we are root
    as_postgres = ["runuser", "-u", "postgres", "--"] if os.geteuid() == 0 else []
    data, port = f"{base}/data", _free_port()
    subprocess.run([*as_postgres, initdb, "-D", data, "-U", "axonic", "--auth=trust"],
                   check=True, capture_output=True)
    subprocess.run([*as_postgres, pg_ctl, "-D", data, "-l", f"{base}/server.log", "-w",
                    "-o", f"-p {port} -k {base} -c listen_addresses=127.0.0.1", "start"],
                   check=True, capture_output=True)
    try:
        yield f"postgresql+psycopg2://axonic@127.0.0.1:{port}/postgres"
    finally:
        subprocess.run([*as_postgres, pg_ctl, "-D", data, "-m", "immediate", "stop"],
                       capture_output=True)
        shutil.rmtree(base, ignore_errors=True)


def test_two_workers_on_one_postgresql_study_finish_exactly_the_requested_trials(
        postgres_url, iris_config, tmp_path):
    tune = iris_config.pop("tune")
    space = tune.pop("space")
    tune.update(trials=6, sampler="tpe")
    text = dumps(iris_config) + "\n[tune]\n" + "".join(
        f"{k} = {toml_value(v)}\n" for k, v in tune.items()) + "\n[tune.space]\n" + "".join(
        f'"{k}" = {toml_value(v)}\n' for k, v in space.items())
    path = tmp_path / "iris.toml"
    path.write_text(text)
    env = {**os.environ, "PYTHONPATH": str(ROOT / "src")}
    workers = [subprocess.Popen(
        [sys.executable, "-m", "axonic.cli.main", "tune", str(path), "--storage", postgres_url,
         "--out", str(tmp_path / f"worker{i}"), "--quiet"], env=env,
        stdout=subprocess.PIPE, stderr=subprocess.STDOUT, text=True) for i in range(2)]
    outputs = [w.communicate(timeout=600)[0] for w in workers]
    assert [w.returncode for w in workers] == [0, 0], outputs
    study = optuna.load_study(study_name="iris_tune", storage=postgres_url)
    trials = study.trials
    assert sorted(t.number for t in trials) == list(range(6))
    assert all(t.state.name == "COMPLETE" for t in trials)
    ran = [sorted(p.name for p in (tmp_path / f"worker{i}" / "trials").glob("trial-*"))
           if (tmp_path / f"worker{i}" / "trials").is_dir() else [] for i in range(2)]
    assert not set(ran[0]) & set(ran[1])  # no trial ran twice
    assert sorted(ran[0] + ran[1]) == [f"trial-{n:04d}" for n in range(6)]
    print(f"worker trials: {ran}")
