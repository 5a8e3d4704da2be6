#!/bin/sh
# run_bad.sh OSHRUN NP PROVIDER BINARY CASE PATTERN - a program that makes one invalid call
# (test_badinput.c CASE) must end the job with a non-zero status within the timeout (no hang, no
# crash signal) and print an error matching PATTERN (which names the call).
oshrun=$1 np=$2 prov=$3 bin=$4 case=$5 pattern=$6
out=$(mktemp)
trap 'rm -f "$out"' EXIT
timeout -k 10 120 "$oshrun" -n "$np" -genv FM_PROVIDER "$prov" "$bin" "$case" >"$out" 2>&1
rc=$?
cat "$out"
[ $rc -ne 124 ] && [ $rc -ne 137 ] || { echo "FAILED: the job hung (timeout)"; exit 1; }
[ $rc -ne 0 ] || { echo "FAILED: the invalid call did not end the job"; exit 1; }
grep -q "SIGSEGV\|Segmentation\|core dumped\|signal 11\|signal 6" "$out" && { echo "FAILED: crashed"; exit 1; }
grep -qE "$pattern" "$out" || { echo "FAILED: no message matching '$pattern'"; exit 1; }
echo "OK: exit status $rc with the expected message"
