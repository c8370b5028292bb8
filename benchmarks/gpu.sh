#!/usr/bin/env bash
# One short visit to a GPU (fits a 10-minute run): the `paper` profile of notebook 04 and what limits it.
#
#   1. notebook 04 in the `paper` profile (Table 2: 224 px, batch 32, 90 epochs x 80 steps), timed
#      end to end (wall time, papermill included) -> $OUT/04_paper.ipynb, $OUT/gpu.json;
#   2. benchmarks/bench_train.py at 224 px: training images/s of the model alone and end to end with
#      augmentation, the input pipeline alone (serial and parallel augmentation), and the model's
#      images/s in float32 vs mixed_float16 -> $OUT/bench_train.json.
#      The pipeline keeps the GPU busy when pipeline img/s >= model img/s (the script prints the ratio).
#   3. only with CBIS set: `mammokit data info` on it (counts; the first run measures every ROI mask, minutes),
#      then notebook 04 in the `paper` profile on it, timed -> $OUT/cbis_info.txt, $OUT/04_paper_cbis.ipynb and
#      "cbis" in $OUT/gpu.json. Far longer than 10 minutes at paper sizes (3,568 lesions): a workstation run.
#
# Usage (from the repository root, with the kit installed):
#   DATA=data/mias benchmarks/gpu.sh              # on the GPU machine; DATA: a MIAS folder (default auto)
#   SIZES=cpu benchmarks/gpu.sh                   # turned-down sizes: checks the script itself on a CPU
#   CBIS=/data/cbis benchmarks/gpu.sh             # also: 3. notebook 04, paper profile, on a CBIS-DDSM download
# Environment: PYTHON (default .venv/bin/python, else python3), OUT (default benchmarks/results/gpu),
# CBIS (optional: a CBIS-DDSM folder, see data/README.md; step 3 is skipped when unset).
set -euo pipefail
cd "$(dirname "$0")/.."

PYTHON=${PYTHON:-$( [ -x .venv/bin/python ] && echo .venv/bin/python || echo python3 )}
OUT=${OUT:-benchmarks/results/gpu}
DATA=${DATA:-auto}
mkdir -p "$OUT"
export MAMMOKIT_RUN_DIR="$OUT/run" TF_CPP_MIN_LOG_LEVEL=${TF_CPP_MIN_LOG_LEVEL:-2}

if [ "${SIZES:-paper}" = cpu ]; then   # a CPU check of this script: seconds, not the paper's figures
  NB_ARGS=(-p ROI_SIZE 64 -p EPOCHS 1 -p STEPS_PER_EPOCH 2)
  BENCH_ARGS=(--sizes 64 --steps 4 --mixed-precision-size 64 --mixed-precision-steps 4)
else
  NB_ARGS=()
  BENCH_ARGS=(--sizes 224 --steps 60 --mixed-precision-size 224 --mixed-precision-steps 60)
fi

echo "== device"
nvidia-smi --query-gpu=name,memory.total,driver_version --format=csv 2>/dev/null || echo "no nvidia-smi: no GPU visible"
"$PYTHON" -c "from mammokit import train; print(train.device_report())"

echo "== notebook 04, paper profile ${NB_ARGS[*]:-}"
start=$(date +%s.%N)
"$PYTHON" -m papermill notebooks/04_convnet.ipynb "$OUT/04_paper.ipynb" -p PROFILE paper -p DATA "$DATA" \
  -p RUN_DIR "$MAMMOKIT_RUN_DIR" "${NB_ARGS[@]}" --log-level WARNING
end=$(date +%s.%N)
wall=$("$PYTHON" -c "print(round($end - $start, 1))")
echo "notebook 04 wall time: ${wall} s"

echo "== training throughput, mixed precision off/on, input pipeline vs model"
"$PYTHON" benchmarks/bench_train.py "${BENCH_ARGS[@]}" --mixed-precision --out "$OUT/bench_train.json"

cbis_wall=null
if [ -n "${CBIS:-}" ]; then
  echo "== CBIS-DDSM at $CBIS: catalog, then notebook 04, paper profile ${NB_ARGS[*]:-}"
  "$PYTHON" -m mammokit data info "$CBIS" | tee "$OUT/cbis_info.txt"
  start=$(date +%s.%N)
  MAMMOKIT_RUN_DIR="$OUT/run_cbis" "$PYTHON" -m papermill notebooks/04_convnet.ipynb "$OUT/04_paper_cbis.ipynb" \
    -p PROFILE paper -p DATA "$CBIS" -p RUN_DIR "$OUT/run_cbis" "${NB_ARGS[@]}" --log-level WARNING
  end=$(date +%s.%N)
  cbis_wall=$("$PYTHON" -c "print(round($end - $start, 1))")
  echo "notebook 04 on CBIS-DDSM wall time: ${cbis_wall} s"
else
  echo "== CBIS-DDSM: skipped (set CBIS=/path/to/download to run notebook 04 on it)"
fi

"$PYTHON" - "$OUT" "$wall" "${SIZES:-paper}" "$cbis_wall" <<'EOF'
import json, sys, time
from pathlib import Path
out, wall, sizes, cbis_wall = Path(sys.argv[1]), float(sys.argv[2]), sys.argv[3], json.loads(sys.argv[4])
bench = json.loads((out / "bench_train.json").read_text())
metrics = out / "run" / "metrics" / "04_convnet.json"
summary = {"when": time.strftime("%Y-%m-%dT%H:%M:%SZ", time.gmtime()), "sizes": sizes,
           "notebook_04_paper_wall_s": wall, "machine": bench["machine"],
           "notebook_04_metrics": json.loads(metrics.read_text()) if metrics.exists() else None,
           "throughput": bench["rows"], "mixed_precision": bench["mixed_precision"]}
if cbis_wall is not None:
    cbis_metrics = out / "run_cbis" / "metrics" / "04_convnet.json"
    summary["cbis"] = {"notebook_04_paper_wall_s": cbis_wall, "info": (out / "cbis_info.txt").read_text(),
                       "notebook_04_metrics": json.loads(cbis_metrics.read_text()) if cbis_metrics.exists() else None}
(out / "gpu.json").write_text(json.dumps(summary, indent=2))
print(json.dumps({k: summary[k] for k in ("notebook_04_paper_wall_s", "mixed_precision")}, indent=1))
print("wrote", out / "gpu.json")
EOF
