#!/usr/bin/env bash
# CLI contract: help, exit codes, one-line usage errors, and bad Parquet input
# handled as an error naming the file (exit 1), never a crash or a sanitizer
# report.  Prints `ok NAME` / `FAIL NAME: why` lines (see tests/run.sh).
set -u
BIN=${SLUICE_BIN:-build/san/sluice}
TESTDATA=${SLUICE_TESTDATA:-tests/data}
PT=$TESTDATA/parquet-testing
tmp=$(mktemp -d "${TMPDIR:-/tmp}/sluice-cli-XXXXXX")
trap 'rm -rf "$tmp"' EXIT

nfail=0
ok() { echo "ok $1"; }
fail() { echo "FAIL $1: $2"; nfail=$((nfail + 1)); }

# run ARGS... : sets rc, and $tmp/out, $tmp/err
run() { "$BIN" "$@" >"$tmp/out" 2>"$tmp/err"; rc=$?; }
errtext() { head -c 600 "$tmp/err" | tr '\n' '|'; }
# a reason if the last run crashed or a sanitizer spoke, else empty
crash() {
    if [ "$rc" -ge 128 ]; then echo "exit $rc (signal)"; return; fi
    if grep -qE 'AddressSanitizer|LeakSanitizer|UndefinedBehaviorSanitizer|runtime error:' "$tmp/err"; then
        echo "sanitizer: $(grep -m3 -E 'Sanitizer|runtime error|#[0-2] ' "$tmp/err" | tr '\n' '|')"
    fi
}
lines() { grep -c '' "$1"; }

# ---- top level -------------------------------------------------------------

run --help
if [ "$rc" -eq 0 ] && grep -q convert "$tmp/out" && grep -q cat "$tmp/out" && grep -q schema "$tmp/out" && grep -q gen "$tmp/out"; then
    ok "sluice --help lists the commands"
else fail "sluice --help lists the commands" "exit $rc: $(head -c 300 "$tmp/out" | tr '\n' '|')"; fi

run
if [ "$rc" -eq 2 ] && [ -s "$tmp/err" ]; then ok "sluice without a command -> exit 2 with usage on stderr"
else fail "sluice without a command -> exit 2" "exit $rc"; fi

run --version
if [ "$rc" -eq 0 ] && grep -qE 'sluice [0-9]+\.[0-9]+' "$tmp/out"; then ok "sluice --version"
else fail "sluice --version" "exit $rc: $(head -c 200 "$tmp/out")"; fi

run frobnicate
if [ "$rc" -eq 2 ] && [ "$(lines "$tmp/err")" -eq 1 ] && grep -q frobnicate "$tmp/err" && [ ! -s "$tmp/out" ]; then
    ok "unknown command -> exit 2, one line naming it"
else fail "unknown command -> exit 2, one line naming it" "exit $rc, stderr: $(errtext)"; fi

# ---- per-command help and usage errors ---------------------------------------

declare -A FLAGS=(
    [convert]="--format --schema --codec --level --row-group-rows --page-bytes --no-dictionary --threads"
    [cat]="--format --columns --limit"
    [schema]="--json"
    [gen]="--count --seed"
)
for cmd in convert cat schema gen; do
    for h in --help -h; do
        run "$cmd" "$h"
        missing=""
        for f in ${FLAGS[$cmd]}; do grep -q -- "$f" "$tmp/out" || missing="$missing $f"; done
        if [ "$rc" -eq 0 ] && grep -q "usage: sluice $cmd" "$tmp/out" && [ -z "$missing" ] && [ ! -s "$tmp/err" ]; then
            ok "$cmd $h documents its flags"
        else fail "$cmd $h documents its flags" "exit $rc, missing:${missing:- none}, stderr: $(errtext)"; fi
    done
    run "$cmd" --no-such-flag x y
    if [ "$rc" -eq 2 ] && [ "$(lines "$tmp/err")" -eq 1 ] && grep -q -- --no-such-flag "$tmp/err" && [ ! -s "$tmp/out" ]; then
        ok "$cmd --no-such-flag -> exit 2, one line on stderr"
    else fail "$cmd --no-such-flag -> exit 2, one line on stderr" "exit $rc, stderr: $(errtext)"; fi
done

for args in "convert" "convert only-one-arg.ndjson" "cat" "schema" "cat a.parquet b.parquet" "schema a.parquet b.parquet" \
            "convert a b c"; do
    # shellcheck disable=SC2086
    run $args
    if [ "$rc" -eq 2 ] && [ "$(lines "$tmp/err")" -eq 1 ] && [ ! -s "$tmp/out" ]; then ok "sluice $args -> exit 2, one line"
    else fail "sluice $args -> exit 2, one line" "exit $rc, stderr: $(errtext)"; fi
done

run cat --limit abc "$PT/alltypes_plain.parquet"
if [ "$rc" -eq 2 ] && [ "$(lines "$tmp/err")" -eq 1 ]; then ok "cat --limit abc -> exit 2"
else fail "cat --limit abc -> exit 2" "exit $rc, stderr: $(errtext)"; fi

run cat --limit "$PT/alltypes_plain.parquet"
if [ "$rc" -eq 2 ]; then ok "cat --limit without a value -> exit 2"
else fail "cat --limit without a value -> exit 2" "exit $rc, stderr: $(errtext)"; fi

run cat --format yaml "$PT/alltypes_plain.parquet"
if [ "$rc" -eq 2 ] && [ "$(lines "$tmp/err")" -eq 1 ] && grep -q yaml "$tmp/err" && [ ! -s "$tmp/out" ]; then ok "cat --format yaml -> exit 2 naming the value"
else fail "cat --format yaml -> exit 2 naming the value" "exit $rc, stderr: $(errtext)"; fi

printf '{"a":1}\n' >"$tmp/one.ndjson"
for bad in "--codec bogus" "--format xml" "--schema a:notatype" "--schema :int64" "--schema a:int64,a:string" "--level x"; do
    # shellcheck disable=SC2086
    run convert $bad "$tmp/one.ndjson" "$tmp/one.parquet"
    val=${bad#* }
    if [ "$rc" -eq 2 ] && [ "$(lines "$tmp/err")" -eq 1 ] && [ -z "$(crash)" ] && [ ! -e "$tmp/one.parquet" ]; then
        ok "convert $bad -> exit 2, one line, no output file"
    else fail "convert $bad -> exit 2, one line, no output file" "exit $rc, stderr: $(errtext)$([ -e "$tmp/one.parquet" ] && echo ' (output file created)')"; fi
    rm -f "$tmp/one.parquet"
done

run convert "$tmp/does-not-exist.ndjson" "$tmp/x.parquet"
if [ "$rc" -eq 1 ] && grep -q "does-not-exist.ndjson" "$tmp/err" && [ -z "$(crash)" ] && [ ! -e "$tmp/x.parquet" ]; then
    ok "convert of a missing input -> exit 1 naming it, no output"
else fail "convert of a missing input -> exit 1 naming it, no output" "exit $rc, stderr: $(errtext)"; fi

run convert "$tmp/one.ndjson" "$tmp/no/such/dir/x.parquet"
if [ "$rc" -eq 1 ] && grep -q "no/such/dir" "$tmp/err" && [ -z "$(crash)" ]; then
    ok "convert to an unwritable path -> exit 1 naming it"
else fail "convert to an unwritable path -> exit 1 naming it" "exit $rc, stderr: $(errtext)"; fi

# ---- gen ---------------------------------------------------------------------

run gen --count 50 --seed 3
cp "$tmp/out" "$tmp/gen1"
if [ "$rc" -eq 0 ] && [ "$(lines "$tmp/gen1")" -eq 50 ]; then ok "gen --count 50 prints 50 lines"
else fail "gen --count 50 prints 50 lines" "exit $rc, $(lines "$tmp/gen1") lines, stderr: $(errtext)"; fi
if node -e '
const lines = require("fs").readFileSync(process.argv[1], "utf8").trim().split("\n");
for (const l of lines) {
    const o = JSON.parse(l);
    for (const k of ["event_id", "event_time", "event_type", "campaign", "cost"])
        if (!Object.keys(o).some((x) => x === k || x.startsWith(k + "_"))) { console.error("missing " + k + " in " + l); process.exit(1); }
    if (!/^\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d(\.\d+)?(Z|[+-]\d\d:\d\d)$/.test(o.event_time)) { console.error("event_time not RFC 3339: " + o.event_time); process.exit(1); }
}
const avg = lines.join("\n").length / lines.length;
if (avg < 100 || avg > 400) { console.error("average line " + avg + " bytes, expected ~200"); process.exit(1); }
' "$tmp/gen1" 2>"$tmp/nodeerr"; then ok "gen output is NDJSON ad events (event_id, event_time RFC 3339, event_type, campaign*, cost; 100-400 bytes)"
else fail "gen output is NDJSON ad events" "$(head -c 300 "$tmp/nodeerr" | tr '\n' '|')"; fi
run gen --count 50 --seed 3
if [ "$rc" -eq 0 ] && [ -s "$tmp/out" ] && cmp -s "$tmp/out" "$tmp/gen1"; then ok "gen is deterministic for a seed"; else fail "gen is deterministic for a seed" "two runs with --seed 3 differ"; fi
run gen --count 50 --seed 4
if [ "$rc" -eq 0 ] && ! cmp -s "$tmp/out" "$tmp/gen1"; then ok "gen differs across seeds"; else fail "gen differs across seeds" "exit $rc; --seed 3 and --seed 4 print the same"; fi
# --count 0 is endless: it must stop quietly when the reader goes away
n0=$(timeout 20 "$BIN" gen --count 0 2>"$tmp/err" | head -n 5 | grep -c '')
rc=0
if [ "$n0" -eq 5 ] && [ -z "$(crash)" ]; then ok "gen --count 0 streams until the pipe closes"; else fail "gen --count 0 streams until the pipe closes" "$n0 lines, $(errtext)"; fi
"$BIN" gen --count 100000 --seed 1 2>"$tmp/err" | head -c 1000 >/dev/null
rc=0
if [ -z "$(crash)" ]; then ok "gen into a closed pipe does not crash"; else fail "gen into a closed pipe does not crash" "$(crash)"; fi

# ---- bad Parquet files ---------------------------------------------------------

# expect_bad NAME FILE [cmds]: each command exits 1, names the file, no crash
expect_bad() {
    local name=$1 file=$2 cmds=${3:-"cat schema"} c why=""
    for c in $cmds; do
        run "$c" "$file"
        local cr; cr=$(crash)
        if [ -n "$cr" ]; then why="$why [$c: $cr]"
        elif [ "$rc" -ne 1 ]; then why="$why [$c: exit $rc, stderr: $(errtext)]"
        elif ! grep -qF -- "$file" "$tmp/err"; then why="$why [$c: stderr does not name the file: $(errtext)]"
        fi
    done
    if [ -z "$why" ]; then ok "$name -> exit 1 naming the file"; else fail "$name -> exit 1 naming the file" "$why"; fi
}

: >"$tmp/empty.parquet";                         expect_bad "empty file" "$tmp/empty.parquet"
printf 'PAR1' >"$tmp/magic.parquet";             expect_bad "only PAR1" "$tmp/magic.parquet"
printf 'PAR1PAR1' >"$tmp/magic2.parquet";        expect_bad "PAR1PAR1" "$tmp/magic2.parquet"
printf 'PAR1junkPAR1' >"$tmp/junk.parquet";      expect_bad "PAR1junkPAR1" "$tmp/junk.parquet"
printf 'PAR1\0\0\0\0PAR1' >"$tmp/zero.parquet";  expect_bad "zero-length footer" "$tmp/zero.parquet"
echo "hello, not parquet" >"$tmp/text.parquet";  expect_bad "text file" "$tmp/text.parquet"
head -c 8192 /dev/urandom >"$tmp/random.parquet"; expect_bad "random bytes" "$tmp/random.parquet"
expect_bad "missing file" "$tmp/nope.parquet"
mkdir -p "$tmp/dir.parquet";                     expect_bad "a directory" "$tmp/dir.parquet"

base=$PT/alltypes_plain.parquet
if [ ! -f "$base" ]; then
    fail "bad Parquet files" "no $base (SLUICE_TESTDATA)"
else
    size=$(stat -c %s "$base")
    flen=$(od -An -tu4 -j $((size - 8)) -N4 "$base" | tr -d ' ')
    fstart=$((size - 8 - flen))

    # footer length pointing past the start of the file / far beyond
    cp "$base" "$tmp/flen.parquet"
    printf '\xff\xff\xff\x7f' | dd of="$tmp/flen.parquet" bs=1 seek=$((size - 8)) conv=notrunc status=none
    expect_bad "footer length 2^31-1" "$tmp/flen.parquet"
    cp "$base" "$tmp/flen2.parquet"
    printf '\x00\x10\x00\x00' | dd of="$tmp/flen2.parquet" bs=1 seek=$((size - 8)) conv=notrunc status=none
    expect_bad "footer length larger than the file" "$tmp/flen2.parquet"

    # footer bytes overwritten
    cp "$base" "$tmp/foot.parquet"
    head -c "$flen" /dev/zero | tr '\0' '\377' | dd of="$tmp/foot.parquet" bs=1 seek="$fstart" conv=notrunc status=none
    expect_bad "footer overwritten with 0xff" "$tmp/foot.parquet"

    # column data overwritten (footer intact): schema may still work, cat must fail
    cp "$base" "$tmp/data.parquet"
    head -c $((fstart - 4)) /dev/zero | tr '\0' '\377' | dd of="$tmp/data.parquet" bs=1 seek=4 conv=notrunc status=none
    expect_bad "page data overwritten with 0xff (cat)" "$tmp/data.parquet" "cat"
    run schema "$tmp/data.parquet"
    if [ -z "$(crash)" ] && { [ "$rc" -eq 0 ] || [ "$rc" -eq 1 ]; }; then ok "page data overwritten: schema exits 0/1 without crashing"
    else fail "page data overwritten: schema exits 0/1 without crashing" "exit $rc $(crash)"; fi

    # truncated at many lengths: the footer is gone, so always an error
    why=""
    for len in 0 1 3 4 5 7 8 100 $((fstart / 2)) $((fstart)) $((fstart + 1)) $((fstart + flen / 2)) $((size - 9)) $((size - 8)) $((size - 5)) $((size - 4)) $((size - 1)); do
        head -c "$len" "$base" >"$tmp/trunc.parquet"
        for c in cat schema; do
            run "$c" "$tmp/trunc.parquet"
            cr=$(crash)
            if [ -n "$cr" ]; then why="$why [$c len $len: $cr]"
            elif [ "$rc" -ne 1 ]; then why="$why [$c len $len: exit $rc]"
            elif ! grep -qF "trunc.parquet" "$tmp/err"; then why="$why [$c len $len: stderr does not name the file]"; fi
        done
    done
    if [ -z "$why" ]; then ok "truncated file (17 lengths) -> exit 1 naming the file"; else fail "truncated file -> exit 1 naming the file" "$why"; fi
fi

# Random corruption of several real files: exit 0 or 1, a message naming the
# file when 1, never a crash.  Deterministic (RANDOM seeded).
RANDOM=4242
why=""; runs=0
for f in alltypes_plain.parquet datapage_v2.snappy.parquet delta_binary_packed.parquet byte_stream_split.zstd.parquet \
         int32_with_null_pages.parquet fixed_length_decimal.parquet; do
    [ -f "$PT/$f" ] || continue
    size=$(stat -c %s "$PT/$f")
    for i in $(seq 1 6); do
        cp "$PT/$f" "$tmp/flip.parquet"
        # 1-4 random bytes somewhere in the file, set to random values
        for k in $(seq 1 $((RANDOM % 4 + 1))); do
            pos=$(( (RANDOM * 32768 + RANDOM) % size ))
            printf "\\x$(printf %02x $((RANDOM % 256)))" | dd of="$tmp/flip.parquet" bs=1 seek="$pos" conv=notrunc status=none
        done
        for c in cat schema; do
            run "$c" "$tmp/flip.parquet"; runs=$((runs + 1))
            cr=$(crash)
            if [ -n "$cr" ]; then
                cp "$tmp/flip.parquet" "${TMPDIR:-/tmp}/sluice-crash-$f-$i.parquet" 2>/dev/null
                why="$why [$c $f #$i: $cr; kept as ${TMPDIR:-/tmp}/sluice-crash-$f-$i.parquet]"
            elif [ "$rc" -ne 0 ] && [ "$rc" -ne 1 ]; then why="$why [$c $f #$i: exit $rc]"
            elif [ "$rc" -eq 1 ] && ! grep -qF "flip.parquet" "$tmp/err"; then why="$why [$c $f #$i: error does not name the file: $(errtext)]"; fi
        done
    done
done
if [ -z "$why" ]; then ok "randomly corrupted files ($runs runs): exit 0/1, no crash"; else fail "randomly corrupted files ($runs runs)" "$why"; fi

# cat into a closed pipe
"$BIN" cat "$PT/delta_byte_array.parquet" 2>"$tmp/err" | head -c 100 >/dev/null
rc=0
if [ -z "$(crash)" ]; then ok "cat into a closed pipe does not crash"; else fail "cat into a closed pipe does not crash" "$(crash)"; fi

exit 0
