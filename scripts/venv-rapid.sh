#!/usr/bin/env bash
# The anchor environment for benchmarks/perf/e2e.py: RapidOCR 1.4.4 (onnxruntime, PP-OCRv4 ONNX
# models bundled in the wheel) on Python 3.11, apart from ours (its numpy/opencv pins differ).
set -euo pipefail
dir=${1:-.venv-rapid}
root=$(cd "$(dirname "$0")/.." && pwd)
if ! "$dir/bin/python" -c 'import rapidocr_onnxruntime' 2>/dev/null; then
    py=""
    for v in 3.11 3.12 3.10; do
        for c in $(command -v python$v) $(ls -d "$HOME"/.pyenv/versions/$v.*/bin/python$v 2>/dev/null); do
            "$c" -c 'import sys' 2>/dev/null && { py=$c; break 2; }
        done
    done
    [ -n "$py" ] || { echo "error: no Python 3.10-3.12 for RapidOCR" >&2; exit 2; }
    echo "setting up $dir with $py: rapidocr_onnxruntime==1.4.4" >&2
    rm -rf "$dir"
    "$py" -m venv "$dir"
    "$dir/bin/python" -m pip install -q "rapidocr_onnxruntime==1.4.4" 2>&1 | grep -v -e "^WARNING" >&2 || true
    "$dir/bin/python" -c 'import rapidocr_onnxruntime' || { echo "error: installing rapidocr_onnxruntime failed" >&2; exit 1; }
fi
