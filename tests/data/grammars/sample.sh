#!/bin/sh
set -eu

usage() {
  echo "usage: $0 DIR" >&2
  exit 2
}

[ $# -eq 1 ] || usage
count=0
for f in "$1"/*.txt; do
  if [ -f "$f" ]; then
    count=$((count + 1))
  fi
done
echo "found $count files in ${1%/}"
