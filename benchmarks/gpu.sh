#!/usr/bin/env bash
# The GPU table: fit samples/s of the dense and convolutional workloads at
# batch 128, 1,024 and 4,096, transform of 1M rows, and the ratio to the CPU
# (benchmarks/gpu.py); then every cell of tests/test_matrix.py (each
# estimator x likelihood x output) on the GPU. Under 8 minutes on one GPU
# (about 4 on an H200 with 16 cores: each rate is timed over one to two seconds
# beyond a fit's fixed costs).
#
#   bash benchmarks/gpu.sh [OUTPUT_DIR]        # default docs/benchmark
#
# It installs nothing beyond the project's own `make install`, and not even
# that where a python3 with a CUDA build of torch and skvae's dependencies is
# already there (a machine with no network, say): the checkout's skvae runs
# from its folder.
set -euo pipefail
cd "$(dirname "$0")/.."
output="${1:-docs/benchmark}"
python=python3
if ! "$python" -c 'import torch, sklearn, scipy, pandas, safetensors; assert torch.cuda.is_available()' 2>/dev/null; then
    make install
    python=.venv/bin/python
fi
"$python" -c 'import torch; assert torch.cuda.is_available(), "torch sees no CUDA GPU"'
export PYTHONUNBUFFERED=1
# gpu.json is written after every measurement, so a run stopped by its time
# limit keeps what it measured; the test matrix runs whatever the benchmark did.
status=0
timeout 360 "$python" benchmarks/gpu.py --device cuda --output "$output" || status=$?
# The matrix needs pytest (a bare CUDA python may lack it, and a lent machine has no network to
# install it); its ONNX cells skip without onnxruntime and onnxscript.
if ! "$python" -c 'import pytest' 2>/dev/null; then
    echo "pytest is not installed for $python: the test matrix did not run" >&2
    exit 1
fi
workers=()
"$python" -c 'import xdist' 2>/dev/null && workers=(-n 8)
SKVAE_TEST_DEVICE=cuda timeout 100 "$python" -m pytest tests/test_matrix.py -q -p no:cacheprovider -o addopts="" \
    "${workers[@]}" || status=$?
exit "$status"
