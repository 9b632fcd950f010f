#!/usr/bin/env bash
# Reproduces the shipped models: exports the simulator's data (TypeScript, the serving code's own
# input preparation), trains with numpy and writes models/*.onnx + models/*.json.
#   bash training/train.sh            (npm run train)
set -euo pipefail
cd "$(dirname "$0")/.."
python3 -c 'import numpy, onnx' 2>/dev/null || { echo "install the training requirements first: pip install -r training/requirements.txt" >&2; exit 2; }
node bin/run-ts.mjs training/export-data.ts training/.work
# One BLAS thread: the matrices are small, and oversubscribed threads were 20x slower on a shared machine.
export OPENBLAS_NUM_THREADS=1 OMP_NUM_THREADS=1 MKL_NUM_THREADS=1
python3 training/train.py --data training/.work --out models "$@"
