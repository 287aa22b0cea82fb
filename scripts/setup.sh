#!/usr/bin/env bash
# Installs and starts what the full test suite needs on Debian/Ubuntu:
# Chromium (browser test), MariaDB (the backend's MySQL tests) and python3
# (the instance helper the user data installs is tested for real), then
# makes sure the database `test` exists; builds versitygw (a real
# S3-compatible server for the shared-state tests) once into a cache.
# Idempotent; run as root or with sudo.
set -euo pipefail

SUDO=""
[ "$(id -u)" -eq 0 ] || SUDO="sudo"

need=()
command -v chromium >/dev/null 2>&1 || need+=(chromium)
[ -x /usr/sbin/mariadbd ] || need+=(mariadb-server)
command -v python3 >/dev/null 2>&1 || need+=(python3)
if [ ${#need[@]} -gt 0 ]; then
  echo "setup: installing ${need[*]}"
  $SUDO apt-get update -qq
  DEBIAN_FRONTEND=noninteractive $SUDO apt-get install -y -qq "${need[@]}" >/dev/null
fi

if ! mariadb-admin -uroot ping >/dev/null 2>&1; then
  echo "setup: starting MariaDB"
  $SUDO mkdir -p /run/mysqld
  $SUDO chown mysql:mysql /run/mysqld 2>/dev/null || true
  $SUDO start-stop-daemon --start --oknodo --background --exec /usr/sbin/mariadbd
  for _ in $(seq 1 60); do
    mariadb-admin -uroot ping >/dev/null 2>&1 && break
    sleep 1
  done
fi
# A test user that may create and drop only the tests' own databases
# (myapp_test_<random>), reachable over TCP with a password whatever root's
# authentication is.
$SUDO mariadb -uroot <<'SQL'
CREATE DATABASE IF NOT EXISTS test;
CREATE USER IF NOT EXISTS 'myapp_test'@'localhost' IDENTIFIED BY 'myapp_test';
CREATE USER IF NOT EXISTS 'myapp_test'@'127.0.0.1' IDENTIFIED BY 'myapp_test';
GRANT ALL PRIVILEGES ON `myapp\_test\_%`.* TO 'myapp_test'@'localhost', 'myapp_test'@'127.0.0.1';
GRANT ALL PRIVILEGES ON `test`.* TO 'myapp_test'@'localhost', 'myapp_test'@'127.0.0.1';
SQL
# versitygw honours S3's conditional writes (If-None-Match / If-Match) and
# keeps object versions: internal/state and cmd/myappctl test the shared
# state against it. Built from the Go module proxy into the directory the
# tests look in (internal/state/s3test; VERSITYGW_PATH overrides it).
VERSITYGW_VERSION=v1.8.0
VERSITYGW_DIR="${XDG_CACHE_HOME:-$HOME/.cache}/myappctl/versitygw-$VERSITYGW_VERSION"
if [ ! -x "$VERSITYGW_DIR/versitygw" ]; then
  echo "setup: building versitygw $VERSITYGW_VERSION into $VERSITYGW_DIR (once, about a minute)"
  (cd "$(mktemp -d)" && GOBIN="$VERSITYGW_DIR" go install "github.com/versity/versitygw/cmd/versitygw@$VERSITYGW_VERSION")
fi
echo "setup: ready (Chromium: $(command -v chromium); MySQL tests: TEST_MYSQL_DSN='myapp_test:myapp_test@tcp(127.0.0.1:3306)/test'; versitygw: $VERSITYGW_DIR/versitygw)"
