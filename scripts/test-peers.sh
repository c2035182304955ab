#!/usr/bin/env bash
# Installs the real peers the test suite talks to (curl, haproxy, nginx, wrk, nghttp2 client and
# server, dnsmasq, openssl, procps, iproute2) from Debian packages when they are missing.
# Runs before `npm test` and on CI. It never fails the test run: without root or apt-get it warns
# and returns 0, and the tests that need an absent peer skip with a reason.
set -u

# command to probe -> Debian package providing it
peers=(
  "curl:curl"
  "haproxy:haproxy"
  "nginx:nginx-light"
  "wrk:wrk"
  "h2load:nghttp2-client"
  "nghttp:nghttp2-client"
  "nghttpd:nghttp2-server"
  "dnsmasq:dnsmasq-base"
  "openssl:openssl"
  "pgrep:procps"
  "ss:iproute2"
  "taskset:util-linux"
)

# Daemons in /usr/sbin are not on a non-root PATH; probe there too.
has() {
  command -v "$1" >/dev/null 2>&1 || [ -x "/usr/sbin/$1" ] || [ -x "/sbin/$1" ]
}

missing=()
for entry in "${peers[@]}"; do
  cmd=${entry%%:*}
  pkg=${entry#*:}
  if ! has "$cmd"; then
    case " ${missing[*]-} " in
      *" $pkg "*) ;;
      *) missing+=("$pkg") ;;
    esac
  fi
done

if [ ${#missing[@]} -eq 0 ]; then
  exit 0
fi

warn() { echo "test-peers: warning: $*" >&2; }

if [ "${EUID:-$(id -u)}" != 0 ]; then
  warn "not root; cannot install: ${missing[*]}. Tests needing them will be skipped."
  exit 0
fi
if ! command -v apt-get >/dev/null 2>&1; then
  warn "no apt-get; cannot install: ${missing[*]}. Tests needing them will be skipped."
  exit 0
fi

echo "test-peers: installing ${missing[*]}" >&2
export DEBIAN_FRONTEND=noninteractive

# Package maintainer scripts would start nginx (port 80) and haproxy as system services. A
# policy-rc.d that answers 101 forbids that; we only add one when none exists, and remove it after.
policy=/usr/sbin/policy-rc.d
own_policy=0
if [ ! -e "$policy" ]; then
  printf '#!/bin/sh\nexit 101\n' >"$policy" && chmod 755 "$policy" && own_policy=1
fi
cleanup() { [ "$own_policy" = 1 ] && rm -f "$policy"; }
trap cleanup EXIT

log=$(mktemp "${TMPDIR:-/tmp}/test-peers.XXXXXX")
install() {
  apt-get install -y -q --no-install-recommends \
    -o Dpkg::Options::=--force-confdef -o Dpkg::Options::=--force-confold "$@" >>"$log" 2>&1
}

status=0
if ! apt-get update -q >>"$log" 2>&1; then
  warn "apt-get update failed (see $log)"
fi
if ! install "${missing[@]}"; then
  # nginx-light is gone from newer Debian releases: fall back to nginx.
  retry=()
  for p in "${missing[@]}"; do
    if [ "$p" = nginx-light ]; then retry+=(nginx); else retry+=("$p"); fi
  done
  if ! install "${retry[@]}"; then
    warn "apt-get install failed (see $log); tests needing missing peers will be skipped."
    status=1
  fi
fi

# Whatever the policy said, make sure no system nginx or haproxy keeps running: the tests start
# their own instances and a system nginx on port 80 would only get in the way.
for svc in nginx haproxy; do
  if command -v systemctl >/dev/null 2>&1 && [ -d /run/systemd/system ]; then
    systemctl disable --now "$svc" >/dev/null 2>&1 || true
  elif command -v service >/dev/null 2>&1; then
    service "$svc" stop >/dev/null 2>&1 || true
  fi
done
for pidfile in /run/nginx.pid /run/haproxy.pid; do
  if [ -s "$pidfile" ]; then
    kill "$(cat "$pidfile")" 2>/dev/null || true
  fi
done

[ "$status" = 0 ] && rm -f "$log"
exit 0
