/* Journal synced-position watermark: how far the active segment is known to
 * be synced, so that recovery can cut what was never acknowledged.
 *
 *   <stream>/synced, 48 bytes, rewritten in place (pwrite at 0), little-endian
 *   +----------------+-----------+----------+-----------+-----------+------------+----------+
 *   | "SLJSYN01" (8) | base le64 | pos le64 | next le64 | boot le64 | state le32 | crc le32 |
 *   +----------------+-----------+----------+-----------+-----------+------------+----------+
 *   base  = base offset of the active segment described
 *   pos   = byte position in that segment up to which its records are synced
 *           (the end of the last group commit acknowledged)
 *   next  = the offset the next append gets: every offset below it was handed out
 *   boot  = the first 64 bits of the kernel's boot id when written (0: unknown)
 *   state = 1 open (a writer has the stream open), 2 closed cleanly
 *   crc   = CRC-32C over the 44 bytes before it
 *
 * A writer rewrites it after every group commit's fdatasync (fsync never:
 * after the write, its ack point), before the records are published to
 * readers and acked; on a segment roll; at open (synced) and at a clean close
 * (synced).  The group-commit write is not synced: after a power loss the
 * file may hold an older value, never a newer one (it is written only after
 * the data is synced), so a stale pos only lies low.  Within one boot the
 * page cache holds the last write whatever killed the process, so pos is
 * exact: that is what `boot` tells recovery (see segment.c, scan()).
 */
#include "journal/jr_int.h"
#include "log/log.h"

#include <errno.h>
#include <fcntl.h>
#include <inttypes.h>
#include <stdio.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#define WM_MAGIC "SLJSYN01"
#define BOOT_ID "/proc/sys/kernel/random/boot_id"

uint64_t jr__boot_id(void)
{
    char b[64];
    int fd = open(BOOT_ID, O_RDONLY | O_CLOEXEC);
    if (fd < 0) return 0;
    ssize_t n = read(fd, b, sizeof b - 1);
    close(fd);
    if (n <= 0) return 0;
    uint64_t v = 0;
    int digits = 0;
    for (ssize_t i = 0; i < n && digits < 16; i++) { /* "09cb6558-faec-4fce-…" */
        char c = b[i];
        int d = c >= '0' && c <= '9' ? c - '0' : c >= 'a' && c <= 'f' ? c - 'a' + 10
                : c >= 'A' && c <= 'F' ? c - 'A' + 10 : -1;
        if (d < 0 && c != '-') return 0;
        if (d < 0) continue;
        v = v << 4 | (uint64_t)d;
        digits++;
    }
    return digits == 16 ? v : 0;
}

static void wm_path(const jr_stream *s, char *out, size_t n)
{
    snprintf(out, n, "%s/" JR__WM_FILE, s->dir);
}

typedef struct wmark {
    uint64_t base, pos, next, boot;
    uint32_t state;
} wmark;

/* Read and check the watermark.  1 with *w, or 0 with why it is unusable. */
static int wm_read(const jr_stream *s, wmark *w, char *why, size_t whylen)
{
    char path[4200];
    uint8_t b[JR__WM_SIZE + 1];
    wm_path(s, path, sizeof path);
    int fd = open(path, O_RDONLY | O_CLOEXEC);
    if (fd < 0) {
        snprintf(why, whylen, "%s", errno == ENOENT ? "missing" : strerror(errno));
        return 0;
    }
    ssize_t n = pread(fd, b, sizeof b, 0);
    int e = errno;
    close(fd);
    if (n < 0) {
        snprintf(why, whylen, "%s", strerror(e));
        return 0;
    }
    if (n != JR__WM_SIZE) {
        snprintf(why, whylen, "%zd bytes, not %d", n, JR__WM_SIZE);
        return 0;
    }
    uint32_t crc;
    memcpy(&crc, b + 44, 4);
    if (memcmp(b, WM_MAGIC, 8) || jr_crc32c(0, b, 44) != crc) {
        snprintf(why, whylen, "damaged (bad magic or CRC)");
        return 0;
    }
    memcpy(&w->base, b + 8, 8);
    memcpy(&w->pos, b + 16, 8);
    memcpy(&w->next, b + 24, 8);
    memcpy(&w->boot, b + 32, 8);
    memcpy(&w->state, b + 40, 4);
    if (w->pos < JR__SEG_HDR || (w->state != JR__WM_OPEN && w->state != JR__WM_CLOSED)) {
        snprintf(why, whylen, "impossible position %" PRIu64 " or state %u", w->pos, w->state);
        return 0;
    }
    return 1;
}

void jr__wm_recovery(jr_stream *s, const char *seg, uint64_t base, uint64_t size,
                     jr__synced *out)
{
    memset(out, 0, sizeof *out);
    wmark w;
    char why[128];
    if (!wm_read(s, &w, why, sizeof why)) {
        lg_write(s->o.read_only ? LG_DEBUG : LG_WARN, "journal",
                 "stream %s: %s/" JR__WM_FILE " %s: %s is recovered without it (every valid "
                 "record kept, so a batch never acknowledged can survive in part)",
                 s->name, s->dir, why, seg);
        return;
    }
    s->wm_next = w.next; /* handed out whichever segment it describes */
    if (w.base != base) {
        lg_write(s->o.read_only ? LG_DEBUG : LG_WARN, "journal",
                 "stream %s: %s/" JR__WM_FILE " describes the segment at offset %" PRIu64
                 ", not %s: it is recovered without it (every valid record kept)",
                 s->name, s->dir, w.base, seg);
        return;
    }
    if (w.state == JR__WM_CLOSED) {
        if (size > w.pos)
            lg_warn("journal", "stream %s: %s has %" PRIu64 " bytes after position %" PRIu64
                    " where it was closed cleanly: not written by this journal (an older "
                    "sluice?), recovered without the watermark (every valid record kept)",
                    s->name, seg, size - w.pos, w.pos);
        return;
    }
    out->pos = w.pos;
    out->exact = w.boot && w.boot == s->boot;
}

int jr__wm_write(jr_stream *s, uint64_t base, uint64_t pos, uint64_t next, uint32_t state,
                 int sync, char *err, size_t errlen)
{
    char path[4200];
    if (s->wm_fd < 0) { /* first write, or opening failed before (e.g. disk full) */
        wm_path(s, path, sizeof path);
        s->wm_fd = open(path, O_RDWR | O_CREAT | O_CLOEXEC, 0644);
        if (s->wm_fd < 0) {
            int e = errno;
            ut_err(err, errlen, "stream %s: %s: open: %s", s->name, path, jr__strerror(e));
            return jr__nospace(e) ? -2 : -1;
        }
    }
    uint8_t b[JR__WM_SIZE];
    memcpy(b, WM_MAGIC, 8);
    memcpy(b + 8, &base, 8);
    memcpy(b + 16, &pos, 8);
    memcpy(b + 24, &next, 8);
    memcpy(b + 32, &s->boot, 8);
    memcpy(b + 40, &state, 4);
    uint32_t crc = jr_crc32c(0, b, 44);
    memcpy(b + 44, &crc, 4);
    ssize_t n;
    do n = pwrite(s->wm_fd, b, sizeof b, 0);
    while (n < 0 && errno == EINTR);
    const char *what = NULL;
    int e = 0;
    if (n != (ssize_t)sizeof b) what = "write", e = n < 0 ? errno : EIO;
    else if (sync && fdatasync(s->wm_fd)) what = "fdatasync", e = errno;
    if (!what) return 0;
    wm_path(s, path, sizeof path);
    ut_err(err, errlen, "stream %s: %s: %s: %s", s->name, path, what, jr__strerror(e));
    return jr__nospace(e) ? -2 : -1;
}
