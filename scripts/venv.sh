#!/usr/bin/env bash
# Create (or refresh) a virtual environment with the package and the given extras.
#   scripts/venv.sh DIR EXTRAS [PYTHON_VERSION]      e.g. scripts/venv.sh .venv all,test 3.10
# Python 3.10 is the default: paddlelite has wheels only for CPython <= 3.10.
set -euo pipefail
dir=${1:?usage: scripts/venv.sh DIR EXTRAS [PYTHON_VERSION]}
extras=${2:-}
want=${3:-3.10}
root=$(cd "$(dirname "$0")/.." && pwd)

find_python() {
    local v=$1 c
    if c=$(command -v "python$v") && "$c" -c 'import sys' 2>/dev/null; then echo "$c"; return 0; fi
    if command -v pyenv >/dev/null 2>&1; then
        for c in $(ls -d "$(pyenv root)"/versions/"$v".*/bin/python"$v" 2>/dev/null | sort -V -r); do
            "$c" -c 'import sys' 2>/dev/null && { echo "$c"; return 0; }
        done
    fi
    for c in /usr/bin/python"$v" /usr/local/bin/python"$v" "$HOME"/.pyenv/versions/"$v".*/bin/python"$v"; do
        [ -x "$c" ] && "$c" -c 'import sys' 2>/dev/null && { echo "$c"; return 0; }
    done
    return 1
}

if ! py=$(find_python "$want"); then
    echo "error: Python $want not found (looked for python$want on PATH and under pyenv)." >&2
    echo "       Install it, e.g. 'pyenv install $want' or your distribution's python$want package." >&2
    exit 2
fi

stamp="$dir/.slimocr-stamp"
want_stamp="$("$py" -c 'import sys; print(sys.version.split()[0])') [$extras] $(cat "$root/setup.cfg" "$root/pyproject.toml" | sha256sum | cut -c1-16)"
if [ -f "$stamp" ] && [ "$(cat "$stamp")" = "$want_stamp" ]; then
    exit 0
fi
echo "setting up $dir with $py (extras: ${extras:-none})" >&2
rm -rf "$dir"
"$py" -m venv "$dir"
"$dir/bin/python" -m pip install -q --upgrade pip >/dev/null 2>&1 || true
spec="$root"
[ -n "$extras" ] && spec="$root[$extras]"
"$dir/bin/python" -m pip install -q -e "$spec" 2>&1 | grep -v -e "^WARNING: Location" -e "is ignored" >&2 || true
"$dir/bin/python" -c 'import slimocr_zoo' || { echo "error: installing slimocr_zoo into $dir failed" >&2; exit 1; }
echo "$want_stamp" > "$stamp"
