# Install steps shared by ./dockyard and scripts/test.sh. Each says what it installs.

ensure_node_modules() {
  if [ ! -d node_modules ] || [ package-lock.json -nt node_modules/.package-lock.json ]; then
    echo "dockyard: installing npm dependencies (first run; better-sqlite3 may build from source, ~90 s)" >&2
    npm ci --no-audit --no-fund >&2
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

# The AWS CLI v2 that tests drive (Debian's awscli, /usr/bin/aws).
ensure_awscli() {
  [ -x /usr/bin/aws ] || apt_install awscli
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
