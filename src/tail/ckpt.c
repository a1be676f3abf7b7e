/* Checkpoints: <dir>/state holds one line per file generation
 *
 *   e DEV INO ID FP_LEN FP OFFSET FLAGS SEEN_MS PATH
 *
 * written whole (tmp + fsync + rename + fsync of the directory) only after
 * a batch was acknowledged.  For the local journal the new state is first
 * written as state.next with a line `intent BEFORE N` (the journal's next
 * offset before the append, the record count), then the append, then the
 * rename: a crash between them is settled at start by the journal itself
 * (next offset past BEFORE: the append happened, state.next is in force;
 * else it is dropped and the records are read again). */
#include "tail/tl_int.h"

#include <errno.h>
#include <fcntl.h>
#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>

#define MAX_STATE_BYTES (64u << 20)

int64_t tl__now_ms(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_REALTIME, &ts);
    return (int64_t)ts.tv_sec * 1000 + ts.tv_nsec / 1000000;
}

static int is_open(const tl__src *s, const tl__entry *en);

/* At the cap: forget the entry of the file seen longest ago (not open). */
static void drop_oldest(tl__src *s)
{
    int k = -1;
    for (int i = 0; i < s->nent; i++)
        if (!is_open(s, s->ent[i]) && (k < 0 || s->ent[i]->seen_ms < s->ent[k]->seen_ms)) k = i;
    if (k < 0) return;
    free(s->ent[k]);
    s->ent[k] = s->ent[--s->nent];
}

tl__entry *tl__entry_add(tl__src *s, ut_error *e)
{
    if (s->nent >= TL__MAX_ENTRIES) drop_oldest(s);
    if (s->nent >= TL__MAX_ENTRIES) {
        ut_fail(e, UT_ELIMIT, "source %s: more than %d files tracked", s->cf->name,
                TL__MAX_ENTRIES);
        return NULL;
    }
    s->ent = ut_realloc(s->ent, (size_t)(s->nent + 1) * sizeof *s->ent);
    tl__entry *en = ut_calloc(1, sizeof *en);
    uint64_t r = ut_now_ns() ^ ((uint64_t)getpid() << 32) ^ (uint64_t)(uintptr_t)en;
    r ^= r >> 33;
    r *= 0xff51afd7ed558ccdull;
    r ^= r >> 29;
    en->id = r ? r : 1;
    s->ent[s->nent++] = en;
    return en;
}

static int is_open(const tl__src *s, const tl__entry *en)
{
    for (int i = 0; i < s->nfiles; i++)
        if (s->files[i]->e == en) return 1;
    return 0;
}

/* Drop entries of files not seen for TL__KEEP_MS (never one that is open);
 * over the cap, the oldest seen. */
void tl__entries_prune(tl__src *s, int64_t now_ms)
{
    int k = 0;
    for (int i = 0; i < s->nent; i++) {
        tl__entry *en = s->ent[i];
        int old = now_ms - en->seen_ms > TL__KEEP_MS;
        if (old && !is_open(s, en)) free(en);
        else s->ent[k++] = en;
    }
    s->nent = k;
}

static int parse_line(tl__src *s, char *line, ut_error *e)
{
    unsigned long long dev, ino, id, fplen, fp, off, seen;
    int flags, n = 0;
    if (sscanf(line, "e %llu %llu %llx %llu %llx %llu %d %llu %n", &dev, &ino, &id, &fplen, &fp,
               &off, &flags, &seen, &n) < 8 || !n || fplen > TL__FP_BYTES)
        return ut_fail(e, UT_ECORRUPT, "%s/state: bad line '%.80s'", s->dir, line);
    tl__entry *en = tl__entry_add(s, e);
    if (!en) return -1;
    en->dev = dev, en->ino = ino, en->id = id, en->fp_len = (uint32_t)fplen, en->fp = fp;
    en->offset = off, en->flags = flags, en->seen_ms = (int64_t)seen;
    snprintf(en->path, sizeof en->path, "%s", line + n);
    return 0;
}

/* The state file (at most MAX_STATE_BYTES), NUL-terminated: 0, 1 when there
 * is none, -1 with e. */
static int read_file(const char *path, ut_buf *b, ut_error *e)
{
    char m[600];
    int rc = ut_file_read(path, MAX_STATE_BYTES, b, m, sizeof m);
    if (rc < 0) return ut_fail(e, UT_EIO, "%s", m);
    if (rc == 0) ut_buf_putc(b, 0);
    return rc;
}

/* Parse a state text into the source's entries; the intent line into intent. */
static int parse_state(tl__src *s, char *text, char *intent, size_t ilen, ut_error *e)
{
    for (char *line = text, *next; line && *line; line = next) {
        next = strchr(line, '\n');
        if (next) *next++ = 0;
        if (!strncmp(line, "intent ", 7)) {
            snprintf(intent, ilen, "%s", line);
        } else if (!strncmp(line, "e ", 2)) {
            if (parse_line(s, line, e)) return -1;
        } else if (strncmp(line, "sluice-tail ", 12)) {
            return ut_fail(e, UT_ECORRUPT, "%s/state: bad line '%.80s'", s->dir, line);
        }
    }
    return 0;
}

int tl__ckpt_load(tl__src *s, ut_error *e)
{
    char path[PATH_MAX + 16];
    snprintf(path, sizeof path, "%s/state", s->dir);
    ut_buf b = {0};
    int rc = read_file(path, &b, e);
    if (rc == 0) {
        char intent[128];
        rc = parse_state(s, (char *)b.p, intent, sizeof intent, e);
    } else if (rc == 1) {
        rc = 0;
    }
    ut_buf_free(&b);
    return rc;
}

static int sync_dir(const char *dir, ut_error *e)
{
    int fd = open(dir, O_RDONLY | O_DIRECTORY);
    if (fd < 0 || fsync(fd)) {
        int err = errno;
        if (fd >= 0) close(fd);
        return ut_fail(e, UT_EIO, "%s: fsync: %s", dir, strerror(err));
    }
    close(fd);
    return 0;
}

static void render(const tl__src *s, ut_buf *b)
{
    ut_buf_puts(b, "sluice-tail 1\n");
    for (int i = 0; i < s->nent; i++) {
        const tl__entry *en = s->ent[i];
        ut_buf_printf(b, "e %llu %llu %llx %u %llx %llu %d %lld ", (unsigned long long)en->dev,
                      (unsigned long long)en->ino, (unsigned long long)en->id, en->fp_len,
                      (unsigned long long)en->fp, (unsigned long long)en->offset, en->flags,
                      (long long)en->seen_ms);
        for (const char *p = en->path; *p; p++) ut_buf_putc(b, *p == '\n' ? '?' : (uint8_t)*p);
        ut_buf_putc(b, '\n');
    }
}

int tl__ckpt_write(tl__src *s, const char *intent, ut_error *e)
{
    char dst[PATH_MAX + 32], m[600];
    snprintf(dst, sizeof dst, "%s/%s", s->dir, intent ? "state.next" : "state");
    ut_buf b = {0};
    render(s, &b);
    if (intent) ut_buf_printf(&b, "%s\n", intent);
    int rc = ut_file_replace(dst, b.p, b.len, 0644, m, sizeof m);
    ut_buf_free(&b);
    return rc ? ut_fail(e, UT_EIO, "%s", m) : 0;
}

int tl__ckpt_commit(tl__src *s, ut_error *e)
{
    char a[PATH_MAX + 32], b[PATH_MAX + 32];
    snprintf(a, sizeof a, "%s/state.next", s->dir);
    snprintf(b, sizeof b, "%s/state", s->dir);
    if (rename(a, b)) return ut_fail(e, UT_EIO, "%s: %s", a, strerror(errno));
    return sync_dir(s->dir, e);
}

/* 1: the batch of the intent is in the target; 0: it is not; -1 (only
 * with defer_recovery): its server did not answer, ask again later. */
static int landed(tl__src *s, const char *intent, char *why, size_t whylen)
{
    unsigned long long before, id, off;
    int n;
    if (sscanf(intent, "intent remote %llx %llu", &id, &off) == 2) {
        int rc = tl__remote_has(s, id, off, why, whylen);
        if (rc == -2 && s->o && s->o->defer_recovery) return -1; /* a server that shall answer */
        if (rc < 0)
            lg_warn("tail", "source %s: cannot tell whether the last batch landed (%s): sending "
                    "it again, it may be duplicated", s->cf->name, why);
        return rc > 0;
    }
    if (s->jr && sscanf(intent, "intent %llu %d", &before, &n) == 2 && n > 0) {
        jr_info in;
        jr_stream_info(s->jr, &in);
        return in.next_offset >= before + (uint64_t)n;
    }
    return 0;
}

int tl__ckpt_recover(tl__src *s, ut_error *e)
{
    char path[PATH_MAX + 32];
    snprintf(path, sizeof path, "%s/state.next", s->dir);
    ut_buf b = {0};
    int rc = read_file(path, &b, e);
    if (rc) {
        ut_buf_free(&b);
        return rc == 1 ? 0 : -1;
    }
    char intent[128] = "";
    tl__src probe;
    memset(&probe, 0, sizeof probe);
    probe.cf = s->cf;
    snprintf(probe.dir, sizeof probe.dir, "%s", s->dir);
    rc = parse_state(&probe, (char *)b.p, intent, sizeof intent, e);
    for (int i = 0; i < probe.nent; i++) free(probe.ent[i]);
    free(probe.ent);
    ut_buf_free(&b);
    if (rc) return -1;
    char why[2048] = "";
    int has = landed(s, intent, why, sizeof why);
    if (has < 0)
        return ut_fail(e, UT_EIO, "source %s: cannot tell yet whether the last batch landed (%s): "
                       "asking again before anything is sent", s->cf->name, why);
    if (has) {
        for (int i = 0; i < s->nent; i++) free(s->ent[i]);
        s->nent = 0;
        if (tl__ckpt_commit(s, e) || tl__ckpt_load(s, e)) return -1;
        lg_info("tail", "source %s: the last batch had landed before the stop; its checkpoint "
                "is now in force", s->cf->name);
    } else {
        unlink(path);
        lg_info("tail", "source %s: the last batch had not landed; it is read again",
                s->cf->name);
    }
    return 0;
}
