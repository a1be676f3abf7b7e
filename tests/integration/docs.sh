#!/usr/bin/env bash
# Generated docs stay in step with the code they are generated from, and the
# README/docs links point at files that exist.
set -u
BIN=${SLUICE_BIN:-build/san/sluice}
if diff -u docs/cli.md <(scripts/cli-doc.sh "$BIN") >/tmp/sluice-cli-doc.diff 2>&1; then
    echo "ok docs/cli.md matches the commands' --help"
else
    echo "FAIL docs/cli.md is stale: run scripts/cli-doc.sh > docs/cli.md"; head -20 /tmp/sluice-cli-doc.diff
fi
if diff -u docs/configuration.md <("$BIN" config --reference) >/tmp/sluice-cfg-doc.diff 2>&1; then
    echo "ok docs/configuration.md matches sluice config --reference"
else
    echo "FAIL docs/configuration.md is stale: run sluice config --reference > docs/configuration.md"; head -20 /tmp/sluice-cfg-doc.diff
fi
bad=0
for f in README.md docs/*.md; do
    base=$(dirname "$f")
    for link in $(grep -o '](\([a-zA-Z0-9_./-]*\.md\|[a-zA-Z0-9_./-]*/\))' "$f" | sed 's/^](//; s/)$//'); do
        [ -e "$base/$link" ] || { echo "FAIL $f links to missing $link"; bad=1; }
    done
done
[ "$bad" = 0 ] && echo "ok markdown links resolve"
