#!/bin/bash
# Peak resident memory (MB, median of 3 runs; /usr/bin/time -f %M) of `visage analyze` and
# `visage verify` on face-api's group photos, with the compiled-graph cache off, cold (an empty
# folder per run) and warm. Runs the built CLI (npm run build first).
#
#   bash bench/peak-rss.sh
set -euo pipefail
root=$(cd "$(dirname "$0")/.." && pwd)
demo="$root/node_modules/@vladmandic/face-api/demo"
scratch=$(mktemp -d)
trap 'rm -rf "$scratch"' EXIT
median() { sort -n | sed -n 2p; }
peak() { /usr/bin/time -f %M node "$root/bin/visage.js" "$@" --json 2>&1 >/dev/null | tail -1; }
echo "| cache | command | peak RSS |"
echo "|---|---|---|"
for cmd in "analyze $demo/sample1.jpg" "verify $demo/sample1.jpg $demo/sample2.jpg"; do
  # shellcheck disable=SC2086
  off=$(for _ in 1 2 3; do VISAGE_CACHE=off peak $cmd; done | median)
  # shellcheck disable=SC2086
  cold=$(for i in 1 2 3; do VISAGE_CACHE_DIR="$scratch/cold$i" peak $cmd; done | median)
  # shellcheck disable=SC2086
  warm=$(for _ in 1 2 3; do VISAGE_CACHE_DIR="$scratch/cold1" peak $cmd; done | median)
  for row in "off $off" "cold $cold" "warm $warm"; do
    set -- $row
    echo "| $1 | ${cmd%% *} | $(($2 / 1024)) MB |"
  done
done
