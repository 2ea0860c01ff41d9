#!/usr/bin/env bash
# The test command: lint, then the default (not slow) test suite.
# Extra arguments go to pytest, e.g. tools/test.sh -m slow
cd "$(dirname "${BASH_SOURCE[0]}")/.." || exit 1
# shellcheck disable=SC1091
. install/setup.bash  # (colcon's scripts are not written for `set -u`)
set -uo pipefail
ruff check . || exit 1
python -m pytest "$@"
rc=$?
if [ "$rc" -eq 5 ]; then
  echo "pytest: no tests were collected for this selection" >&2
  rc=0
fi
exit "$rc"
