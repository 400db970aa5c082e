# Install steps shared by ./dockyard and scripts/test.sh. Each says what it installs.

ensure_node_modules() {
  if [ ! -d node_modules ] || [ package-lock.json -nt node_modules/.package-lock.json ]; then
    echo "dockyard: installing npm dependencies (first run; better-sqlite3 may build from source, ~90 s)" >&2
    npm ci --no-audit --no-fund >&2
  fi
}

# The built artifact bin/dockyard.mjs runs: src/ compiled to dist/ by tsc, again whenever a
# source (tests are not built), the tsconfig or the lock file is newer than the last build
# (dist/.built).
ensure_build() {
  local why=""
  if [ ! -f dist/.built ]; then
    why="first run"
  elif [ -n "$(find src tsconfig.json tsconfig.build.json package-lock.json -newer dist/.built ! -name '*.test.ts' -print -quit)" ]; then
    why="the sources changed since the last build"
  fi
  if [ -n "$why" ]; then
    echo "dockyard: building dist/ from src/ with tsc ($why, ~10 s)" >&2
    rm -rf dist
    npx tsc -p tsconfig.build.json >&2
    touch dist/.built
  fi
}

apt_updated=""
apt_install() {
  if [ "$(id -u)" != 0 ]; then
    echo "dockyard: need root to install Debian packages: $*" >&2
    return 1
  fi
  if [ -z "$apt_updated" ]; then
    apt-get update -qq >&2
    apt_updated=1
  fi
  echo "dockyard: installing Debian packages: $*" >&2
  DEBIAN_FRONTEND=noninteractive apt-get install -y -qq "$@" >&2
}

# The AWS CLIs that tests drive: v2 (Debian's awscli, /usr/bin/aws) and v1 (pip's awscli, the
# first other `aws` on PATH; test/helpers/aws-cli.ts fails the v1 tests when there is none).
ensure_awscli() {
  [ -x /usr/bin/aws ] || apt_install awscli
  local v1=""
  local IFS=:
  for dir in $PATH; do
    # /bin/aws is Debian's v2 too where /bin links to /usr/bin.
    if [ -x "$dir/aws" ] && [ "$(readlink -f "$dir/aws")" != "$(readlink -f /usr/bin/aws)" ]; then v1="$dir/aws"; break; fi
  done
  if [ -z "$v1" ]; then
    echo "dockyard: installing the AWS CLI v1 with pip (python3 -m pip install --user awscli)" >&2
    python3 -m pip install --user --quiet awscli >&2 || echo "dockyard: could not install the AWS CLI v1; its tests will fail" >&2
  fi
}

# A running Docker Engine: install Debian's docker.io when dockerd is missing, start it when
# it is not answering (no systemd on these machines).
ensure_docker() {
  command -v dockerd >/dev/null 2>&1 || apt_install docker.io
  if ! curl -fsS --unix-socket /var/run/docker.sock http://d/_ping >/dev/null 2>&1; then
    echo "dockyard: starting dockerd (log: /var/log/dockyard-dockerd.log)" >&2
    (setsid dockerd >/var/log/dockyard-dockerd.log 2>&1 &)
    for _ in $(seq 1 100); do
      curl -fsS --unix-socket /var/run/docker.sock http://d/_ping >/dev/null 2>&1 && return 0
      sleep 0.2
    done
    echo "dockyard: dockerd did not start; see /var/log/dockyard-dockerd.log" >&2
    return 1
  fi
}

# busybox-static: the only binary in the test images (FROM scratch).
ensure_busybox() {
  [ -x /bin/busybox ] && file -L /bin/busybox 2>/dev/null | grep -q static || [ -f /usr/share/doc/busybox-static/copyright ] || apt_install busybox-static
}

# Debian's nginx: the reference proxy of bench/lb.ts (benchmarks only; nothing else uses it).
ensure_nginx() {
  command -v nginx >/dev/null 2>&1 || apt_install nginx-light
}
