#!/usr/bin/env bash
# The phone benchmark end to end against the emulated phone (tests/phone) through the real adb:
# start the phone on a loopback port, `bench --device sd855 --serial 127.0.0.1:PORT`, stop it.
# The phone declares an x86_64 ABI (so its benchmark_bin can run x86 .nb files here): --force.
# Usage: scripts/bench-emulated.sh [bench args...]   (PYTHON=... to pick the interpreter)
set -euo pipefail
cd "$(dirname "$0")/.."
py=${PYTHON:-.venv/bin/python}
command -v adb >/dev/null || { echo "adb not found: apt-get install adb" >&2; exit 1; }
work=$(mktemp -d)
pid=""
port=""
cleanup() {
    [ -n "$port" ] && adb disconnect "127.0.0.1:$port" >/dev/null 2>&1 || true
    [ -n "$pid" ] && kill "$pid" 2>/dev/null || true
    rm -rf "$work"
}
trap cleanup EXIT
"$py" -m tests.phone --abi x86_64 --root "$work/phone" --benchmark-bin "$work/benchmark_bin" \
    --ocr-db-crnn "$work/ocr_db_crnn" > "$work/port" &
pid=$!
for _ in $(seq 100); do [ -s "$work/port" ] && break; sleep 0.1; done
port=$(head -1 "$work/port")
[ -n "$port" ] || { echo "the emulated phone did not start" >&2; exit 1; }
"$py" -m slimocr_zoo.bench --device sd855 --serial "127.0.0.1:$port" --force --runtime "$work/benchmark_bin" \
    --e2e-binary "$work/ocr_db_crnn" "$@"
