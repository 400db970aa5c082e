#!/usr/bin/env bash
# Every benchmark in one go (about 12 minutes), installing what they need: Docker Engine,
# busybox-static, Debian's docker-registry (the CNCF Distribution reference) and wrk.
# Results: one JSON line or document per benchmark in bench/results/<name>.json.
# Run one alone with: node --import tsx bench/<name>.ts (see each file's header for options).
set -euo pipefail
cd "$(dirname "$(readlink -f "$0")")/.."
source scripts/lib/ensure.sh
ensure_node_modules
ensure_busybox
ensure_docker
command -v docker-registry >/dev/null 2>&1 || apt_install docker-registry
command -v wrk >/dev/null 2>&1 || apt_install wrk
mkdir -p bench/results
run() {
  local name=$1; shift
  echo "== $name" >&2
  node --import tsx "bench/$name.ts" "$@" > "bench/results/$name.json"
  tail -c 600 "bench/results/$name.json" >&2; echo >&2
}
run scheduler
run task-start 15
run task-rate 60 300
run registry --rounds 5
run api --client wrk --connections 32 --seconds 5
run simulated-agents 1000 10000 900
