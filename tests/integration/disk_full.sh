#!/usr/bin/env bash
# A really full disk under the journal: the data dir is a 4 MiB tmpfs in a private mount
# namespace (unshare -m, needs root), and a filler file takes the free space.  An append
# that meets ENOSPC - in the active segment, and when the segment rolls - is answered 507
# with a clear message and nothing half-written; every acknowledged record stays readable,
# the server keeps serving, and writes are accepted again once space is freed (also across
# a restart, with no offset skipped or reused).  Loopback only.
source "$(dirname "$0")/../lib/sh.sh" diskfull
MNT=$T/mnt D=$T/mnt/data HOLDER=
mkdir -p "$MNT"
cleanup_ns() { [ -n "$PID" ] && kill -9 "$PID" 2>/dev/null; [ -n "$HOLDER" ] && kill "$HOLDER" 2>/dev/null; cleanup; }
trap cleanup_ns EXIT

# The namespace lives as long as the holder; everything touching the tmpfs enters it.
unshare -m --propagation private sh -c 'mount -t tmpfs -o size=4m tmpfs "$1" && touch "$2" && exec sleep 120' \
    sh "$MNT" "$T/ns-ready" 2>"$T/unshare.err" &
HOLDER=$!
for _ in $(seq 50); do [ -e "$T/ns-ready" ] && break; kill -0 "$HOLDER" 2>/dev/null || break; sleep 0.1; done
if [ ! -e "$T/ns-ready" ]; then
    fail tmpfs_in_mount_namespace "unshare -m + mount tmpfs failed (needs root): $(cat "$T/unshare.err")"
    exit 1
fi
ns() { nsenter -t "$HOLDER" -m -- "$@"; }

cat > "$T/sluice.yaml" <<YAML
data_dir: $D
listen: 127.0.0.1:0
limits:
  min_free_disk: 0
streams:
  ev:
    segment_bytes: 1MiB
    sink: {enabled: false}
YAML
serve() { # the server inside the namespace (nsenter execs it: \$! is its pid)
    rm -f "$T/port"
    nsenter -t "$HOLDER" -m -- "$BIN" serve -c "$T/sluice.yaml" --port-file "$T/port" 2>>"$T/server.log" &
    PID=$!
    for _ in $(seq 100); do [ -s "$T/port" ] && break; kill -0 "$PID" 2>/dev/null || break; sleep 0.1; done
    URL="http://127.0.0.1:$(cat "$T/port" 2>/dev/null)"
}
PAD=$(head -c 1000 /dev/zero | tr '\0' p)
NEXT=0 GAPS= # ids 0..NEXT-1 were acknowledged, each at offset = id
batch() { # N: N records of ~1 KB with the next ids, into $T/batch
    local i; for ((i = NEXT; i < NEXT + $1; i++)); do echo "{\"id\":$i,\"pad\":\"$PAD\"}"; done > "$T/batch"
}
post() { # N: posts a batch; sets CODE and BODY (headers in $T/h); NEXT moves on a 200
    batch "$1"
    BODY=$(curl -s -D "$T/h" -o - -w '\n%{http_code}' -X POST --data-binary @"$T/batch" "$URL/v1/streams/ev/records")
    CODE=${BODY##*$'\n'}; BODY=${BODY%$'\n'*}
    if [ "$CODE" = 200 ]; then
        [[ "$BODY" == *"\"first_offset\":$NEXT,"* ]] || GAPS="$GAPS; want first_offset $NEXT: $BODY"
        NEXT=$((NEXT + $1))
    fi
}
info() { curl -s "$URL/v1/streams/ev"; }
field() { info | sed -n "s/.*\"$1\":\\([0-9]*\\).*/\\1/p"; }
readable() { # every acknowledged id, in order, is in the journal (read inside the namespace)
    ns "$BIN" read ev --data "$D" 2>>"$T/read.err" | sed -n 's/^{"id":\([0-9]*\),.*/\1/p' > "$T/ids"
    seq 0 $((NEXT - 1)) | cmp -s - "$T/ids"
}
fill() { # the filler takes every free block, then gives back $1 KiB
    ns sh -c "dd if=/dev/zero of='$MNT/filler' bs=64k 2>/dev/null; truncate -s -${1}K '$MNT/filler'"
}
free_space() { ns rm -f "$MNT/filler"; }

serve
if [ ! -s "$T/port" ]; then fail server_start "$(cat "$T/server.log")"; exit 1; fi
post 16
[ "$CODE" = 200 ]; check first_batch_200 $? "got $CODE $BODY"

# ---- the active segment's write meets ENOSPC ------------------------------------------
fill 64
for _ in $(seq 40); do post 16; [ "$CODE" = 200 ] || break; done
[ "$CODE" = 507 ] && [[ "$BODY" == *'disk full'* ]] && [[ "$BODY" == *'stream ev'* ]] &&
    grep -qi '^Retry-After: 30' "$T/h"
check append_enospc_507 $? "got $CODE $BODY after $NEXT records"; echo "# $BODY"
acked=$NEXT
[ "$acked" -gt 16 ]; check some_writes_fit_before_full $? "only $acked records acknowledged"
[ "$(curl -s -o /dev/null -w '%{http_code}' "$URL/healthz")" = 200 ]; check healthz_while_full $? "healthz failed"
[ "$(field next_offset)" = "$NEXT" ]; check full_append_takes_no_offset $? "$(info)"
readable; check acked_readable_while_full $? "journal ids differ from 0..$((NEXT - 1)): $(wc -l < "$T/ids") ids; $(cat "$T/read.err")"
free_space
post 16
[ "$CODE" = 200 ]; check writes_accepted_after_space_freed $? "got $CODE $BODY"

# ---- the segment roll meets ENOSPC -------------------------------------------------------
while [ $(( $(field bytes) + 40000 )) -lt 1048576 ]; do post 16; [ "$CODE" = 200 ] || break; done
[ "$CODE" = 200 ]; check filled_the_segment $? "got $CODE $BODY"
segs=$(field segments)
fill 0
post 40 # over the 1 MiB segment: the new segment cannot be made
[ "$CODE" = 507 ] && [[ "$BODY" == *'disk full'* ]] && [[ "$BODY" == *'stream ev'* ]] &&
    grep -qi '^Retry-After: 30' "$T/h"
check roll_enospc_507 $? "got $CODE $BODY"; echo "# $BODY"
[ "$(curl -s -o /dev/null -w '%{http_code}' "$URL/healthz")" = 200 ]; check healthz_after_roll_failure $? "healthz failed"
[ "$(field next_offset)" = "$NEXT" ]; check failed_roll_takes_no_offset $? "$(info)"
free_space
post 40
[ "$CODE" = 200 ] && [ "$(field segments)" -gt "$segs" ]
check roll_succeeds_after_space_freed $? "got $CODE $BODY; $(info)"
readable; check acked_readable_after_roll $? "journal ids differ from 0..$((NEXT - 1)): $(wc -l < "$T/ids") ids; $(cat "$T/read.err")"

# ---- restart: everything acknowledged is there, and offsets go on ---------------------
kill -TERM "$PID"; wait "$PID"; rc=$?; PID=
[ "$rc" = 0 ]; check sigterm_exit_0 $? "exit $rc: $(tail -3 "$T/server.log")"
serve
[ "$(field next_offset)" = "$NEXT" ]; check restart_keeps_every_offset $? "$(info)"
post 16
[ "$CODE" = 200 ]; check writes_after_restart $? "got $CODE $BODY"
readable; check acked_readable_after_restart $? "journal ids differ from 0..$((NEXT - 1)): $(wc -l < "$T/ids") ids; $(cat "$T/read.err")"
[ -z "$GAPS" ]; check offsets_never_skipped $? "${GAPS#; }"
kill -TERM "$PID"; wait "$PID"; rc=$?; PID=
[ "$rc" = 0 ]; check second_sigterm_exit_0 $? "exit $rc"
if grep -qE 'AddressSanitizer|runtime error' "$T/server.log" "$T/read.err"; then
    fail sanitizer_clean "$(grep -h -A5 -E 'AddressSanitizer|runtime error' "$T/server.log" "$T/read.err" | head -20)"
else ok sanitizer_clean; fi
