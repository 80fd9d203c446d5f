#!/usr/bin/env bash
# The GPU table: fit samples/s of the dense and convolutional workloads at
# batch 128, 1,024 and 4,096, transform of 1M rows, and the ratio to the CPU
# (benchmarks/gpu.py). Under 8 minutes on one GPU.
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
timeout 480 "$python" benchmarks/gpu.py --device cuda --output "$output"
