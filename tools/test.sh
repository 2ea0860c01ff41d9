#!/usr/bin/env bash
# The test command: lint, then the default (not slow) test suite.
# Extra arguments go to pytest, e.g. tools/test.sh -m slow
set -uo pipefail
cd "$(dirname "${BASH_SOURCE[0]}")/.."
# shellcheck disable=SC1091
. install/setup.bash
ruff check . || exit 1
python -m pytest "$@"
rc=$?
if [ "$rc" -eq 5 ]; then
  echo "pytest: no tests were collected for this selection" >&2
  rc=0
fi
exit "$rc"
