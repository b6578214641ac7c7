#!/usr/bin/env bash
# Brings up what the test suite needs on a machine of this project's kind, the way CI does:
# PostgreSQL (127.0.0.1:5432) and NATS (127.0.0.1:4222) when installed but down, Debian's Chromium
# for the browser tests, iproute2 and iptables for the censorship tests. Prints one clear line for
# anything it cannot do and goes on: the suites that need it then fail with their own message.
# Run by `npm test` (as `pretest`) and by .ci/run.
set -uo pipefail

port_open() { (exec 3<>"/dev/tcp/127.0.0.1/$1") 2>/dev/null; }
wait_port() {
  for _ in $(seq 1 60); do
    port_open "$1" && return 0
    sleep 1
  done
  return 1
}
note() { printf 'test services: %s\n' "$*" >&2; }
is_root() { [ "$(id -u)" = 0 ]; }

apt_install() {
  if ! is_root || ! command -v apt-get >/dev/null 2>&1; then
    note "cannot install $* (needs root and apt-get): install Debian's package(s) $* yourself"
    return 1
  fi
  note "installing Debian's package(s): $*"
  apt-get update -qq >/dev/null 2>&1
  DEBIAN_FRONTEND=noninteractive apt-get install -y -qq "$@" >/dev/null 2>&1 || {
    note "installing $* failed"
    return 1
  }
}

if ! port_open 5432; then
  if command -v pg_ctlcluster >/dev/null 2>&1 && [ -d /etc/postgresql ]; then
    note "PostgreSQL is down: starting it"
    pg_ctlcluster --skip-systemctl-redirect "$(ls /etc/postgresql | head -n1)" main start >/dev/null 2>&1
    wait_port 5432 || note "PostgreSQL did not start: the PostgreSQL suites will fail"
  else
    note "PostgreSQL is not answering on 127.0.0.1:5432 and is not installed here: the PostgreSQL suites will fail"
  fi
fi

if ! port_open 4222; then
  if [ -x /usr/sbin/nats-server ]; then
    note "NATS is down: starting it"
    start-stop-daemon --start --oknodo --background --exec /usr/sbin/nats-server -- \
      -a 127.0.0.1 -p 4222 -js -sd /var/lib/nats-server -l /var/log/nats-server.log
    wait_port 4222 || note "NATS did not start: the NATS suites will fail"
  else
    note "NATS is not answering on 127.0.0.1:4222 and is not installed here: the NATS suites will fail"
  fi
fi

if ! command -v chromium >/dev/null 2>&1; then
  apt_install chromium || note "the browser tests will fail without /usr/bin/chromium"
fi

if ! command -v ip >/dev/null 2>&1 || ! command -v iptables >/dev/null 2>&1; then
  apt_install iproute2 iptables || note "the censorship tests will skip without ip and iptables"
fi
exit 0
