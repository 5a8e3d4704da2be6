#!/bin/sh
# check_api.sh LIBRARY - every entry point of OpenSHMEM 1.5 (tools/spec-names.sh, typed from the
# specification's tables independently of shmem.h) is a function libshmem-fm exports.
set -eu
lib=$1
here=$(cd "$(dirname "$0")" && pwd)
tmp=$(mktemp -d)
trap 'rm -rf "$tmp"' EXIT
sh "$here/../tools/spec-names.sh" | sort >"$tmp/spec"
nm -D --defined-only "$lib" | awk '$2 == "T" { print $3 }' | sort >"$tmp/exported"
missing=$(comm -23 "$tmp/spec" "$tmp/exported")
if [ -n "$missing" ]; then
  echo "not exported by $lib:"
  echo "$missing"
  exit 1
fi
echo "all $(wc -l <"$tmp/spec") entry points exported ($(wc -l <"$tmp/exported") functions in all)"
