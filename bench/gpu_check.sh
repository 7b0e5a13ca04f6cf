#!/usr/bin/env bash
# The GPU check: the one script a machine with an NVIDIA GPU runs, from the repository root.
#
#   bench/gpu_check.sh [tests] [train] [bench]      # default: all three, in that order
#   EPOCHS=2 bench/gpu_check.sh train                # a shorter training run
#   WORKERS=4 bench/gpu_check.sh tests               # pytest-xdist workers (default 8)
#
# 1. tests: the cuda test mode (pytest --device cuda tests/cuda): every OpSpec, the layers,
#    losses, optimizers, Trainer, random draws and memory readings on the GPU against the CPU;
#    prints passed / total.
# 2. train: `axonic train` on the default config (CNN on the digits), once with --device cuda
#    and once with --device cpu, same seed; prints both test accuracies.
# 3. bench: bench/gpu.py (MLP, CNN, char-LSTM, Transformer at GPU sizes, axonic vs PyTorch).
#
# Everything lands in $OUT (default ./gpu_out), at most 8 files: summary.txt, env.txt,
# cuda_tests.log, train.log, train.json, gpu_bench.md, gpu_bench.json.
# CuPy must be importable: the GPU image has it (cupy-cuda13x); otherwise wheels carried in
# .whl/ are installed from there into /tmp/gpu_check_site, and as a last resort
# `pip install --target /tmp/gpu_check_site cupy-cuda12x` is tried (GPU_CHECK_INSTALL=0: never).
set -u -o pipefail
cd "$(dirname "$0")/.."
OUT=${OUT:-$PWD/gpu_out}
mkdir -p "$OUT"
PY=${PYTHON:-python3}
export PYTHONPATH="$PWD/src:$PWD${PYTHONPATH:+:$PYTHONPATH}" PYTHONUNBUFFERED=1
STAGES=${*:-tests train bench}
SUMMARY="$OUT/summary.txt"
say() { echo "== $*" | tee -a "$SUMMARY"; }

# CuPy goes into a private folder, never into the environment the script was started in.
if ! "$PY" -c "import cupy" 2>/dev/null && [ "${GPU_CHECK_INSTALL:-1}" = 1 ]; then
    if ls .whl/*.whl >/dev/null 2>&1; then
        "$PY" -m pip install -q --no-index --no-deps --target /tmp/gpu_check_site .whl/*.whl
    else
        "$PY" -m pip install -q --target /tmp/gpu_check_site cupy-cuda12x
    fi
    export PYTHONPATH="/tmp/gpu_check_site:$PYTHONPATH"
fi
{
    nvidia-smi --query-gpu=name,driver_version,memory.total --format=csv 2>&1
    "$PY" - <<'EOF'
import platform, numpy
print("python", platform.python_version(), "numpy", numpy.__version__)
try:
    import cupy
    print("cupy", cupy.__version__, "driver", cupy.cuda.runtime.driverGetVersion(),
          "runtime", cupy.cuda.runtime.runtimeGetVersion())
except Exception as e:
    print("cupy: NOT USABLE:", type(e).__name__, e)
import torch
print("torch", torch.__version__, "cuda", torch.version.cuda, torch.cuda.is_available())
import axonic
print("axonic.cuda.is_available", axonic.cuda.is_available(), axonic.cuda.device_count())
EOF
} > "$OUT/env.txt" 2>&1
cat "$OUT/env.txt" | tee -a "$SUMMARY"

for stage in $STAGES; do
    case $stage in
    tests)
        say "cuda test mode"
        timeout 300 "$PY" -m pytest -q -p no:cacheprovider tests/cuda --device cuda -n "${WORKERS:-8}" \
            -rfE 2>&1 | tee "$OUT/cuda_tests.log" | tail -n 40
        # pytest's last line: "N failed, M passed, K skipped in T s"
        line=$(grep -E "(passed|failed|error)" "$OUT/cuda_tests.log" | tail -n 1)
        passed=$(echo "$line" | grep -oE "[0-9]+ passed" | grep -oE "[0-9]+" || echo 0)
        total=$(echo "$line" | grep -oE "[0-9]+ (passed|failed|errors?|skipped)" \
            | awk '{ n += $1 } END { print n + 0 }')
        say "cuda test mode: ${passed:-0} passed / ${total:-0} total ($line)"
        ;;
    train)
        say "axonic train, default config, cuda vs cpu"
        rm -rf /tmp/axonic_gpu_runs && mkdir -p /tmp/axonic_gpu_runs
        for dev in cuda cpu; do
            start=$(date +%s)
            # shellcheck disable=SC2086  (EPOCHS is empty or "--epochs N")
            timeout 240 "$PY" -c "import sys; from axonic.cli.main import main; \
sys.exit(main(sys.argv[1:]))" train --device "$dev" --out "/tmp/axonic_gpu_runs/$dev" \
                --quiet ${EPOCHS:+--epochs $EPOCHS} >>"$OUT/train.log" 2>&1
            echo "$dev rc=$? seconds=$(( $(date +%s) - start ))" | tee -a "$OUT/train.log"
        done
        "$PY" - "$OUT/train.json" <<'EOF' | tee -a "$SUMMARY"
import json, sys
from pathlib import Path
out = {}
for dev in ("cuda", "cpu"):
    f = Path("/tmp/axonic_gpu_runs") / dev / "test_metrics.json"
    out[dev] = json.loads(f.read_text()) if f.is_file() else None
Path(sys.argv[1]).write_text(json.dumps(out, indent=1))
def test(d):
    if d is None:
        return "no result"
    scores = d.get("test", d)
    return {k: v for k, v in scores.items() if not isinstance(v, (dict, list))}
for dev in out:
    print(f"{dev}: {test(out[dev])}")
EOF
        ;;
    bench)
        say "bench/gpu.py"
        timeout 420 "$PY" bench/gpu.py --json "$OUT/gpu_bench.json" 2>&1 \
            | tee "$OUT/gpu_bench.md" | tee -a "$SUMMARY"
        ;;
    *)
        say "unknown stage '$stage' (expected tests, train or bench)"
        exit 2
        ;;
    esac
done
