#!/bin/sh
# One command: real hardware ladders (nvenc / vaapi / qsv) where a device comes up, each rung
# checked with ffprobe; says plainly when this machine has none. Exit 1 if a hardware ladder fails.
set -e
cd "$(dirname "$0")/.."
exec node_modules/.bin/bun bench/hw-check.ts "$@"
