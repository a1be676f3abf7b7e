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
root=$(pwd -P)
for f in README.md docs/*.md; do
    base=$(dirname "$f")
    # every relative link target: ](target) or ](target#anchor), not URLs
    for link in $(grep -o '](\([^)# ]*\)' "$f" | sed 's/^](//' | grep -v '^[a-z]*:' | grep -v '^$'); do
        [ -e "$base/$link" ] || { echo "FAIL $f links to missing $link"; bad=1; continue; }
        real=$(realpath -m "$base/$link")
        case "$real/" in
            "$root"/*) ;;
            *) echo "FAIL $f links outside the repository: $link"; bad=1 ;;
        esac
    done
    # no prose pointer to files outside the checkout either
    if grep -n '\.\./shared\|\.\./\.\./' "$f" >/tmp/sluice-docs-out.txt; then
        echo "FAIL $f refers outside the repository:"; cat /tmp/sluice-docs-out.txt; bad=1
    fi
done
[ "$bad" = 0 ] && echo "ok markdown links resolve inside the repository"
