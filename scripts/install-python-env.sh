#!/usr/bin/env bash
# Creates (or refreshes) the virtual environment the backend embeds and installs the
# project's Python packages and dependencies into it. Must be readable by the postgres user.
set -euo pipefail
python_system=$1
venv=$2
here=$(cd "$(dirname "$0")/.." && pwd)
if [ ! -x "$venv/bin/python" ]; then
  mkdir -p "$(dirname "$venv")"
  "$python_system" -m venv "$venv"
  "$venv/bin/pip" install -q --upgrade pip
fi
# A copy, not an editable install: the server must not depend on the checkout.
"$venv/bin/pip" install -q --upgrade --no-warn-script-location "$here"
chmod -R a+rX "$venv"
