#!/usr/bin/env bash
# House rules that a grep can check (docs/testing.md):
#  - library code (src/ except src/cli, src/main.c and src/log) never writes
#    to stderr or stdout itself: it logs with lg_error/lg_warn/lg_info/lg_debug
#    (src/log/log.h), or hands text to its caller;
#  - the sanitizer build keeps assert() (no NDEBUG).
# Offending lines are printed as file:line: text.
set -u
cd "$(dirname "$0")/../.."
out=$(mktemp)
trap 'rm -f "$out"' EXIT

# Code lines only: drop lines that are comments (start with /*, * or //).
find src -name '*.[ch]' ! -path 'src/cli/*' ! -path 'src/log/*' ! -path src/main.c | sort |
    xargs grep -nE '\b(f?printf|vf?printf|f?puts|fputc|putc|putchar|perror|fwrite)\s*\(|\b(stderr|stdout|STDERR_FILENO|STDOUT_FILENO)\b|\bwrite\s*\(\s*[12]\s*,' |
    grep -vE '^[^:]+:[0-9]+:\s*(/\*|\*|//)' |
    grep -E '[(,]\s*(stderr|stdout|STDERR_FILENO|STDOUT_FILENO)\s*[,)]|\bwrite\s*\(\s*[12]\s*,|(^|[^A-Za-z0-9_])(printf|vprintf|puts|putchar|perror)\s*\(' >"$out"
n=$(wc -l <"$out")
if [ "$n" -eq 0 ]; then
    echo "ok library code does not write to stderr/stdout (it uses src/log)"
else
    echo "FAIL library code writes to stderr/stdout itself in $n lines (use lg_* from src/log/log.h):"
    sed 's/^/    /' "$out"
fi

if grep -nE '^(SANFLAGS|\$\(SAN\)/%\.o).*NDEBUG|^	.*\(san\).*NDEBUG' Makefile >"$out"; then
    echo "FAIL the sanitizer build defines NDEBUG (assert() must stay on):"
    sed 's/^/    /' "$out"
else
    echo "ok the sanitizer build keeps assert()"
fi
