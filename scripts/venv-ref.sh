#!/usr/bin/env bash
# The reference environment for benchmarks/parity.py: PaddleOCR 2.7.3 with its own pins.
set -euo pipefail
dir=${1:-.venv-ref}
root=$(cd "$(dirname "$0")/.." && pwd)
"$root/scripts/venv.sh" "$dir" "" 3.10
if ! "$dir/bin/python" -c 'import zlib, paddleocr' 2>/dev/null; then
    echo "installing paddleocr==2.7.3 (the reference) into $dir" >&2
    "$dir/bin/python" -m pip install -q "paddleocr==2.7.3" "paddlepaddle==2.6.2" "numpy==1.26.4" 2>&1 \
        | grep -v -e "^WARNING: Location" -e "is ignored" >&2 || true
    "$dir/bin/python" -c 'import zlib, paddleocr' || { echo "error: installing paddleocr into $dir failed" >&2; exit 1; }
fi
