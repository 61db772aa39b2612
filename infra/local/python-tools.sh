#!/usr/bin/env bash
# Installs the Python readers the Iceberg interop tests use (pyiceberg, pyarrow, DuckDB with its
# iceberg extension from PyPI) into .local-stack/python-tools; idempotent: a venv whose requirements
# hash matches is left alone. Prints the venv's python path on stdout.
set -euo pipefail
ROOT="$(cd "$(dirname "${BASH_SOURCE[0]}")/../.." && pwd)"
REQ="$ROOT/infra/local/python-tools.txt"
VENV="${PYTHON_TOOLS_VENV:-$ROOT/.local-stack/python-tools}"
hash="$(sha1sum "$REQ" | cut -c1-12)"
if [[ ! -f "$VENV/.complete-$hash" ]]; then
  printf '[python-tools] installing pyiceberg, pyarrow and duckdb into %s\n' "$VENV" >&2
  python3 -m venv "$VENV" || { echo '[python-tools] python3 -m venv failed (Debian: apt-get install python3-venv)' >&2; exit 1; }
  mkdir -p "$ROOT/.local-stack/logs"
  "$VENV/bin/pip" install -q --disable-pip-version-check -r "$REQ" >"$ROOT/.local-stack/logs/python-tools.log" 2>&1 \
    || { echo "[python-tools] pip install failed, see $ROOT/.local-stack/logs/python-tools.log" >&2; exit 1; }
  rm -f "$VENV"/.complete-*; touch "$VENV/.complete-$hash"
fi
echo "$VENV/bin/python"
