"""The allocator tuning of axonic.backend.allocator: on by default on glibc, and optional."""

import subprocess
import sys

import pytest

CHECK = "import axonic.backend.allocator as a; print(a.tuned)"


def _run(env_value):
    import os

    env = dict(os.environ)
    env.pop("AXONIC_TUNE_MALLOC", None)
    if env_value is not None:
        env["AXONIC_TUNE_MALLOC"] = env_value
    out = subprocess.run([sys.executable, "-c", CHECK], capture_output=True, text=True,
                         env=env, timeout=60)
    assert out.returncode == 0, out.stderr
    return out.stdout.strip()


@pytest.mark.skipif(not sys.platform.startswith("linux"), reason="glibc tuning is Linux-only")
def test_malloc_is_tuned_by_default_and_can_be_switched_off():
    assert _run(None) == "True"
    assert _run("0") == "False"
