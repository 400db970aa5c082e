#!/usr/bin/env bash
# The whole test suite: installs what it needs (npm packages, Docker Engine, AWS CLI v2,
# busybox-static), type-checks, builds dist/, then runs every *.test.ts under node's test runner.
set -euo pipefail
cd "$(dirname "$(readlink -f "$0")")/.."
source scripts/lib/ensure.sh
ensure_node_modules
ensure_awscli
ensure_busybox
ensure_docker
echo "== typecheck" >&2
npx tsc --noEmit -p .
# The tests run the sources through tsx, but those that spawn bin/dockyard.mjs run dist/.
ensure_build
echo "== tests" >&2
mapfile -t files < <(find src test -name '*.test.ts' | sort)
# spec for people; tap to a file for the closing "N passed, N failed, N skipped" line CI reads.
tap="$(mktemp)"
trap 'rm -f "$tap"' EXIT
set +e
node --import tsx --test --test-reporter=spec --test-reporter-destination=stdout \
  --test-reporter=tap --test-reporter-destination="$tap" "${files[@]}"
status=$?
set -e
pass="$(grep -E '^# pass [0-9]+' "$tap" | tail -1 | awk '{print $3}')"
fail="$(grep -E '^# fail [0-9]+' "$tap" | tail -1 | awk '{print $3}')"
skipped="$(grep -E '^# skipped [0-9]+' "$tap" | tail -1 | awk '{print $3}')"
echo "${pass:-0} passed, ${fail:-0} failed, ${skipped:-0} skipped"
exit "$status"
