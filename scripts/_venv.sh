# Sourced by the set-up scripts: create .venv (once) and install callvault with EXTRAS into it.
set -euo pipefail
ROOT="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
cd "$ROOT"
PYTHON="${PYTHON:-python3}"
if [ ! -x .venv/bin/python ]; then
  "$PYTHON" -m venv .venv
fi
if ! .venv/bin/python -m pip install --quiet --disable-pip-version-check -e ".${EXTRAS:-}" \
    >.venv/pip-install.log 2>&1; then
  cat .venv/pip-install.log >&2
  echo "error: installing callvault into .venv failed (log above)" >&2
  exit 1
fi
