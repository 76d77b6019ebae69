#!/bin/sh
# Installs what medianode needs on a Debian machine that has Node.js/npm: redis-server,
# ffmpeg and libheif-examples from apt when missing, then Bun and the dependencies from npm. Safe to run again.
set -e
cd "$(dirname "$0")/.."

missing=""
command -v redis-server >/dev/null 2>&1 || missing="$missing redis-server"
# `setup.sh test`: the dashboard's browser test also needs Debian's chromium.
if [ "${1:-}" = "test" ]; then
  command -v chromium >/dev/null 2>&1 || [ -x /usr/bin/chromium ] || missing="$missing chromium"
  command -v systemd-analyze >/dev/null 2>&1 || missing="$missing systemd"
  # promtool (tests/metrics) comes with Debian's prometheus; nginx and caddy front the
  # reverse-proxy test (tests/e2e/reverse-proxy.test.ts) and the playback cache test
  # (tests/api/playback/nginx-cache.test.ts) with the README's config blocks.
  command -v promtool >/dev/null 2>&1 || missing="$missing prometheus"
  command -v nginx >/dev/null 2>&1 || [ -x /usr/sbin/nginx ] || missing="$missing nginx-light"
  command -v caddy >/dev/null 2>&1 || missing="$missing caddy"
fi
{ command -v ffmpeg >/dev/null 2>&1 && command -v ffprobe >/dev/null 2>&1; } || missing="$missing ffmpeg"
# HEIC/HEIF photos (iPhones): libheif's heif-convert decodes them; the tests also use heif-enc.
command -v heif-convert >/dev/null 2>&1 || missing="$missing libheif-examples"
if [ -n "$missing" ]; then
  sudo=""
  [ "$(id -u)" -eq 0 ] || sudo="sudo"
  echo "setup: installing$missing with apt-get" >&2
  $sudo apt-get update -qq
  DEBIAN_FRONTEND=noninteractive $sudo apt-get install -y -qq --no-install-recommends $missing >/dev/null
fi

# Bun itself comes from the npm package `bun` (node_modules/.bin/bun).
if [ ! -x node_modules/.bin/bun ] || [ package-lock.json -nt node_modules/.package-lock.json ]; then
  echo "setup: installing npm dependencies (bun, elysia, bullmq, sharp, ...)" >&2
  # npm ci first (exact lock); npm 11 can refuse a lock that lists other platforms'
  # optional binaries differently, so fall back to a plain install.
  npm ci --no-audit --no-fund --loglevel=error 2>/dev/null || npm install --no-audit --no-fund --loglevel=error
fi
