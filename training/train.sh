#!/usr/bin/env bash
# Reproduces the shipped models: exports the simulator's data (TypeScript, the serving code's own
# input preparation), trains with PyTorch and writes models/*.onnx + models/*.json.
#   bash training/train.sh            (npm run train; extra arguments go to train.py, e.g. --only audio)
set -euo pipefail
cd "$(dirname "$0")/.."
python3 -c 'import numpy, onnx, torch' 2>/dev/null || { echo "install the training requirements first: pip install -r training/requirements.txt" >&2; exit 2; }
node bin/run-ts.mjs training/export-data.ts training/.work
# One thread: the networks are small, oversubscribed threads are slower on a shared machine, and a
# fixed reduction order keeps runs repeatable (train.py also sets torch's own thread counts).
export OPENBLAS_NUM_THREADS=1 OMP_NUM_THREADS=1 MKL_NUM_THREADS=1
python3 training/train.py --data training/.work --out models "$@"
