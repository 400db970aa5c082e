#!/usr/bin/env bash
# Every benchmark in one go (about 45 minutes), installing what they need: Docker Engine,
# busybox-static, Debian's docker-registry (the CNCF Distribution reference) and wrk.
# Results: one JSON line or document per benchmark in bench/results/<name>.json.
# Run one alone with: node --import tsx bench/<name>.ts (see each file's header for options).
set -euo pipefail
cd "$(dirname "$(readlink -f "$0")")/.."
source scripts/lib/ensure.sh
ensure_node_modules
ensure_build
ensure_busybox
ensure_docker
command -v docker-registry >/dev/null 2>&1 || apt_install docker-registry
command -v wrk >/dev/null 2>&1 || apt_install wrk
ensure_nginx
mkdir -p bench/results
# run <result name> <bench file> [args...]: the raw output of one benchmark in bench/results/<result name>.json.
run() {
  local name=$1 file=$2; shift 2
  echo "== $name" >&2
  node --import tsx "bench/$file.ts" "$@" > "bench/results/$name.json"
  tail -c 600 "bench/results/$name.json" >&2; echo >&2
}
run scheduler scheduler
run task-start task-start 15
run task-rate task-rate 60 300 3 20
run registry registry --rounds 5
run api api --client wrk --connections 32 --seconds 5
# The tail-latency goals (issue 7): DescribeTaskDefinition at 50 connections, ListTasks and the
# mixed load at 256 connections over 10,000 tasks.
run api-describe-50 api --client wrk --connections 50 --seconds 10 --only describe,describe-uncached
run api-list-tasks-256 api --client wrk --connections 256 --seconds 10 --only list-tasks,mixed --tasks 10000
# The same with undici as the client: wrk shows a ~1 % tail of 1–2 s at 256 connections that the
# server never sees (bench/results/list-tasks-tail-2026-11-30.md).
run api-list-tasks-256-undici api --client undici --connections 256 --seconds 10 --only list-tasks,mixed --tasks 10000
run simulated-agents simulated-agents 1000 10000 900
# Signature verification on vs --accept-any-credentials (issue 8): over HTTP, and in process.
run api-verification api --compare-verification --rounds 3 --seconds 5 --connections 32 --client wrk
run sigv4-cost sigv4-cost --batches 21 --iterations 5000
run startup startup --rounds 15
# The load balancer's listener against nginx proxying the same two targets (issue 10).
run lb lb --seconds 10 --rounds 2
# Services (issue 9): a 50-task service to steady state against 50 `docker run`s, and a
# 10,000-task rolling deployment on 1,000 simulated instances.
run services-docker services docker 3 50
run services-simulated services simulated 1000 10000
# Capacity provider strategies' cost to RunTask (issue 9).
run capacity-providers capacity-providers
# Parameter Store / Secrets Manager reads next to DescribeTaskDefinition, and task start with ten secrets (issue 11).
run secrets secrets --rounds 3 --starts 16
# awslogs throughput against `docker logs`, end-to-end delay, FilterLogEvents over 1,000,000 events (issue 12).
run logs-stdout logs 100000 3  # the bench also writes bench/results/logs.json itself
# The agent's cost of collecting task stats for 200 containers against `docker stats --no-stream` (issue 13).
run task-stats task-stats 200 5 10
