#!/usr/bin/env bash
# The whole test suite: installs what it needs (npm packages, Docker Engine, AWS CLI v2,
# busybox-static), type-checks, then runs every *.test.ts under node's test runner.
set -euo pipefail
cd "$(dirname "$(readlink -f "$0")")/.."
source scripts/lib/ensure.sh
ensure_node_modules
ensure_awscli
ensure_busybox
ensure_docker
echo "== typecheck" >&2
npx tsc --noEmit -p .
echo "== tests" >&2
mapfile -t files < <(find src test -name '*.test.ts' | sort)
exec node --import tsx --test --test-reporter=spec "${files[@]}"
