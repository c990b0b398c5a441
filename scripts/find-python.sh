#!/usr/bin/env bash
# Print the path of a Python 3.10 interpreter, the version Rasa 3.6 needs.
# Looks at PYTHON, then python3.10 on PATH, then pyenv's installed versions.
set -euo pipefail

is_python_310() {
  "$1" -c 'import sys; sys.exit(sys.version_info[:2] != (3, 10))' 2>/dev/null
}

candidates=()
[[ -n "${PYTHON:-}" ]] && candidates+=("$PYTHON")
command -v python3.10 >/dev/null 2>&1 && candidates+=("$(command -v python3.10)")
pyenv_root="${PYENV_ROOT:-$HOME/.pyenv}"
for dir in "$pyenv_root"/versions/3.10*; do
  [[ -x "$dir/bin/python" ]] && candidates+=("$dir/bin/python")
done

for candidate in "${candidates[@]}"; do
  if is_python_310 "$candidate"; then
    echo "$candidate"
    exit 0
  fi
done

cat >&2 <<'MSG'
Python 3.10 was not found, and Rasa 3.6 runs on Python 3.8 to 3.10 only.
Install it, then run the command again:
  - with pyenv:  pyenv install 3.10.13
  - on Debian or Ubuntu:  apt-get install python3.10 python3.10-venv
or set PYTHON=/path/to/python3.10.
MSG
exit 1
