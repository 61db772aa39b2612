#!/usr/bin/env bash
# What the test suite needs beyond npm and the local stack, installed when missing (idempotent, quick
# when everything is there): Debian's chromium (the clickstream collector's browser test; Playwright's
# own browser download cannot work here), OpenSSH's sftp and ssh-keygen (the partner SFTP drop's test),
# and the Python readers of the Iceberg interop tests (pyiceberg, pyarrow, DuckDB + its iceberg
# extension from PyPI, in a venv under .local-stack/).
set -euo pipefail
ROOT="$(cd "$(dirname "${BASH_SOURCE[0]}")/../.." && pwd)"

missing=()
[[ -x /usr/bin/chromium ]] || missing+=(chromium)
{ [[ -x /usr/bin/sftp ]] && [[ -x /usr/bin/ssh-keygen ]]; } || missing+=(openssh-client)
if ((${#missing[@]} > 0)); then
  if [[ $(id -u) -eq 0 ]] && command -v apt-get >/dev/null; then
    printf '[test-tools] installing %s from Debian (apt-get)\n' "${missing[*]}" >&2
    apt-get update -qq && DEBIAN_FRONTEND=noninteractive apt-get install -y -qq "${missing[@]}" >/dev/null
  else
    printf '[test-tools] missing: %s. Install them (Debian/Ubuntu: sudo apt-get install -y %s), then run the tests again.\n' "${missing[*]}" "${missing[*]}" >&2
    exit 1
  fi
fi
bash "$ROOT/infra/local/python-tools.sh" >/dev/null
