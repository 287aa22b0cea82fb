#!/usr/bin/env bash
# Installs and starts what the full test suite needs on Debian/Ubuntu:
# Chromium (browser test) and MariaDB (the backend's MySQL tests), then
# makes sure the database `test` exists. Idempotent; run as root or with sudo.
set -euo pipefail

SUDO=""
[ "$(id -u)" -eq 0 ] || SUDO="sudo"

need=()
command -v chromium >/dev/null 2>&1 || need+=(chromium)
[ -x /usr/sbin/mariadbd ] || need+=(mariadb-server)
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
echo "setup: ready (Chromium: $(command -v chromium); MySQL tests: TEST_MYSQL_DSN='myapp_test:myapp_test@tcp(127.0.0.1:3306)/test')"
