/* The shipper: sources, the follow loop, records into batches. */
#include "tail/tl_int.h"

#include <curl/curl.h>
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/file.h>
#include <fcntl.h>
#include <sys/stat.h>
#include <unistd.h>

struct tl_shipper {
    tl__src *src;
    int n;
    int once;
    tl_opts o;
};

typedef struct emit_ctx {
    tl__src *s;
    tl__file *f;
} emit_ctx;

/* The record's JSON at the end of the batch body; parse 0: as `message`. */
static int build_record(tl__src *s, const tl__file *f, const char *text, size_t n,
                        uint64_t start, int cut, int parse)
{
    ut_buf_putc(&s->body, '{');
    int ok = parse ? tl_parse(s->parser, text, n, &s->body) : 0;
    if (!parse) {
        ut_buf_puts(&s->body, "\"message\":");
        ut_json_str(&s->body, text, n);
    }
    ut_buf_puts(&s->body, ",\"host\":");
    ut_json_str(&s->body, s->host, strlen(s->host));
    ut_buf_puts(&s->body, ",\"file\":");
    ut_json_str(&s->body, f->e->path, strlen(f->e->path));
    ut_buf_printf(&s->body, ",\"file_offset\":%llu,\"file_id\":\"%016llx\"",
                  (unsigned long long)start, (unsigned long long)f->e->id);
    for (int i = 0; i < s->cf->fields.n; i++) {
        ut_buf_putc(&s->body, ',');
        ut_json_str(&s->body, s->cf->fields.k[i], strlen(s->cf->fields.k[i]));
        ut_buf_putc(&s->body, ':');
        ut_json_str(&s->body, s->cf->fields.v[i], strlen(s->cf->fields.v[i]));
    }
    if (cut) ut_buf_puts(&s->body, ",\"truncated\":true");
    if (parse && !ok) ut_buf_puts(&s->body, ",\"parse_error\":true");
    ut_buf_puts(&s->body, "}\n");
    return ok;
}

static void add_record(void *arg, const char *text, size_t n, uint64_t start, uint64_t end, int cut)
{
    emit_ctx *x = arg;
    tl__src *s = x->s;
    if (s->nrec + 2 > s->caprec) {
        s->caprec = s->caprec ? s->caprec * 2 : 1024;
        s->rec_off = ut_realloc(s->rec_off, (size_t)s->caprec * sizeof *s->rec_off);
    }
    if (!s->nrec) {
        s->rec_off[0] = 0;
        s->batch_since_ms = tl__now_ms();
        s->first_id = x->f->e->id;
        s->first_off = start;
    }
    size_t at = s->body.len;
    if (!build_record(s, x->f, text, n, start, cut, 1)) s->st.parse_errors++;
    /* escaping can make a record bigger than the stream takes: cut the text */
    size_t cap = (size_t)s->c->limits.max_record_bytes;
    if (s->body.len - at > cap) {
        ut_buf_truncate(&s->body, at);
        build_record(s, x->f, text, n < cap / 8 ? n : cap / 8, start, 1, 0);
    }
    s->rec_off[++s->nrec] = s->body.len;
    s->batch_src_bytes += end - x->f->sent_pos;
    x->f->sent_pos = end;
}

/* One shipper per checkpoint directory (sluice tail and a server with the
 * same sources: would both read and write it): an exclusive flock on
 * <dir>/lock, held until src_free.  0 / -1 with e. */
static int lock_dir(tl__src *s, ut_error *e)
{
    char path[PATH_MAX + 8];
    snprintf(path, sizeof path, "%s/lock", s->dir);
    s->lock_fd = open(path, O_RDWR | O_CREAT | O_CLOEXEC, 0644);
    if (s->lock_fd < 0)
        return ut_fail(e, UT_EIO, "sources.%s: %s: %s", s->cf->name, path, strerror(errno));
    if (flock(s->lock_fd, LOCK_EX | LOCK_NB))
        return ut_fail(e, UT_EEXISTS, "sources.%s: %s is locked: another shipper (sluice tail, or "
                       "sluice serve with these sources) is shipping this source",
                       s->cf->name, s->dir);
    return 0;
}

static int src_init(tl__src *s, const cf_config *c, const cf_source *cf, ut_error *e)
{
    s->c = c;
    s->cf = cf;
    if (!cf->stream[0]) return ut_fail(e, UT_EINVAL, "sources.%s: stream is required", cf->name);
    if (!cf->paths.n) return ut_fail(e, UT_EINVAL, "sources.%s: paths is empty", cf->name);
    if (!ut_name_ok(UT_NAME_STREAM, cf->stream))
        return ut_fail(e, UT_EINVAL, "sources.%s: '%s' is not a stream name", cf->name, cf->stream);
    ut_error pe;
    s->parser = tl_parser_create((tl_format)cf->format, cf->pattern, &pe);
    if (!s->parser) return ut_fail(e, UT_EINVAL, "sources.%s: %s", cf->name, pe.msg);
    if (cf->multiline.start[0]) {
        int rc = regcomp(&s->start_re, cf->multiline.start, REG_EXTENDED | REG_NOSUB);
        if (rc) {
            char m[256];
            regerror(rc, &s->start_re, m, sizeof m);
            return ut_fail(e, UT_EINVAL, "sources.%s: multiline.start: %s", cf->name, m);
        }
        s->have_start = 1;
    }
    if (cf->host[0]) snprintf(s->host, sizeof s->host, "%s", cf->host);
    else if (gethostname(s->host, sizeof s->host - 1)) snprintf(s->host, sizeof s->host, "unknown");
    if (cf->checkpoint[0]) snprintf(s->dir, sizeof s->dir, "%s", cf->checkpoint);
    else snprintf(s->dir, sizeof s->dir, "%s/tail/%s", c->data_dir, cf->name);
    char err[512];
    if (ut_mkdir_p(s->dir, err, sizeof err)) return ut_fail(e, UT_EIO, "sources.%s: %s", cf->name, err);
    if (lock_dir(s, e) || tl__sink_open(s, e) || tl__ckpt_load(s, e)) return -1;
    if (cf->url[0] && s->o && s->o->defer_recovery) {
        s->recover_pending = 1; /* the lookup asks the remote server: in tl_run */
        return 0;
    }
    return tl__ckpt_recover(s, e);
}

static void src_free(tl__src *s)
{
    if (s->lock_fd > 0) close(s->lock_fd);
    while (s->nfiles) tl__close(s, 0);
    for (int i = 0; i < s->nent; i++) free(s->ent[i]);
    free(s->ent);
    tl__sink_close(s);
    tl_parser_destroy(s->parser);
    if (s->have_start) regfree(&s->start_re);
    ut_buf_free(&s->body);
    free(s->rec_off);
}

tl_shipper *tl_create(const cf_config *c, const tl_opts *o, ut_error *e)
{
    tl_shipper *t = ut_calloc(1, sizeof *t);
    t->once = o && o->once;
    if (o) t->o = *o;
    t->src = ut_calloc((size_t)(c->nsources ? c->nsources : 1), sizeof *t->src);
    curl_global_init(CURL_GLOBAL_DEFAULT);
    for (int i = 0; i < c->nsources; i++) {
        if (o && o->source && strcmp(o->source, c->sources[i].name)) continue;
        t->src[t->n].o = &t->o;
        if (src_init(&t->src[t->n++], c, &c->sources[i], e)) {
            tl_destroy(t);
            return NULL;
        }
    }
    if (!t->n) {
        ut_fail(e, UT_ENOTFOUND, o && o->source ? "no source %s in the config" : "the config has no sources",
                o && o->source ? o->source : "");
        tl_destroy(t);
        return NULL;
    }
    return t;
}

void tl_destroy(tl_shipper *t)
{
    if (!t) return;
    for (int i = 0; i < t->n; i++) src_free(&t->src[i]);
    free(t->src);
    free(t);
    curl_global_cleanup();
}

void tl_stats_get(tl_shipper *t, tl_stats *out)
{
    memset(out, 0, sizeof *out);
    for (int i = 0; i < t->n; i++) {
        const tl_stats *s = &t->src[i].st;
        out->records += s->records, out->bytes += s->bytes, out->batches += s->batches;
        out->parse_errors += s->parse_errors, out->files += s->files;
        out->rotations += s->rotations, out->truncations += s->truncations;
        out->retries += s->retries;
        for (int k = 0; k < t->src[i].nfiles; k++) out->cut_lines += tl_lines_cut(t->src[i].files[k]->lines);
        out->cut_lines += s->cut_lines;
    }
}

/* Close the files marked to close once nothing of theirs is unacknowledged;
 * a .gz read to its end is done for good. */
static int close_finished(tl__src *s, char *closing, ut_error *e)
{
    int gzdone = 0;
    for (int i = s->nfiles - 1; i >= 0; i--) {
        if (!closing[i]) continue;
        tl__file *f = s->files[i];
        if (f->gz) f->e->flags |= TL__DONE, gzdone = 1;
        else s->st.rotations++;
        lg_debug("tail", "source %s: %s finished at offset %llu", s->cf->name, f->e->path,
                 (unsigned long long)f->e->offset);
        tl__close(s, i);
    }
    return gzdone ? tl__ckpt_write(s, NULL, e) : 0;
}

/* After a read of n bytes: the file's first bytes are still the entry's
 * (else it was truncated and written again, and the bytes are not ours);
 * the fingerprint grows up to TL__FP_BYTES with what was read. */
static int check_start(tl__file *f, size_t n)
{
    tl__entry *en = f->e;
    if (en->fp_len && !tl__same_start(f->fd, NULL, en)) return 0;
    uint64_t have = f->read_pos + n;
    if (en->fp_len < TL__FP_BYTES && have > en->fp_len) {
        uint32_t want = have < TL__FP_BYTES ? (uint32_t)have : TL__FP_BYTES, got;
        uint64_t fp;
        if (!tl__fingerprint(f->fd, NULL, want, &fp, &got) && got == want) en->fp = fp, en->fp_len = got;
    }
    return 1;
}

/* Read one chunk of file f; 1 if bytes came, 0 at its end, -1 error. */
static int read_chunk(tl__src *s, tl__file *f, char *buf, volatile sig_atomic_t *stop, ut_error *e)
{
    struct stat st;
    if (!f->gz && (f->replaced || (!fstat(f->fd, &st) && (uint64_t)st.st_size < f->read_pos))) {
        if (tl__commit(s, stop, e)) return -1;
        tl__truncated(s, f);
    }
    size_t want = s->cf->batch_bytes < TL__CHUNK ? (size_t)s->cf->batch_bytes : TL__CHUNK;
    ssize_t n = f->gz ? gzread(f->gz, buf, (unsigned)want) : read(f->fd, buf, want);
    if (n < 0 && errno == EINTR) return 1;
    if (n < 0) return ut_fail(e, UT_EIO, "source %s: %s: read: %s", s->cf->name, f->e->path,
                              strerror(errno));
    if (n == 0) return 0;
    if (!f->gz && !check_start(f, (size_t)n)) { /* truncated before this read: drop the bytes */
        if (tl__commit(s, stop, e)) return -1;
        tl__truncated(s, f);
        return 1;
    }
    emit_ctx x = {s, f};
    tl_lines_feed(f->lines, buf, (size_t)n, add_record, &x);
    f->read_pos += (uint64_t)n;
    f->active_ms = tl__now_ms();
    if (s->body.len >= s->cf->batch_bytes && tl__commit(s, stop, e)) return -1;
    return 1;
}

/* A file at its end: multiline timeout, rotated/deleted files finish. */
static int at_end(tl__src *s, tl__file *f, int once, int64_t now)
{
    emit_ctx x = {s, f};
    int idle = now - f->active_ms;
    if (f->gz) {
        tl_lines_flush(f->lines, 1, add_record, &x);
        return 1;
    }
    if ((f->away || f->renamed) && (once || idle >= s->cf->rotate_wait_ms)) {
        tl_lines_flush(f->lines, 1, add_record, &x);
        if (f->away) return 1;
    }
    if (tl_lines_pending(f->lines) && (once || idle >= s->cf->multiline.timeout_ms))
        tl_lines_flush(f->lines, 0, add_record, &x);
    return 0;
}

/* One pass over a source: 1 if any bytes came, 0 if none, -1 error. */
static int step(tl__src *s, int once, volatile sig_atomic_t *stop, ut_error *e)
{
    static char buf[TL__CHUNK];
    char closing[TL__MAX_OPEN] = {0};
    int64_t now = tl__now_ms();
    if (now - s->last_scan_ms >= s->cf->poll_ms) tl__scan(s, now);
    int busy = 0, nclose = 0;
    for (int i = 0; i < s->nfiles; i++) {
        int rc = read_chunk(s, s->files[i], buf, stop, e);
        if (rc < 0) return -1;
        busy |= rc;
        if (!rc && at_end(s, s->files[i], once && !busy, now)) closing[i] = 1, nclose++;
    }
    if (s->nrec && (nclose || (once && !busy) || now - s->batch_since_ms >= s->cf->batch_wait_ms))
        if (tl__commit(s, stop, e)) return -1;
    if (nclose && !s->nrec && close_finished(s, closing, e)) return -1;
    return busy;
}

int tl_run(tl_shipper *t, volatile sig_atomic_t *stop, ut_error *e)
{
    int64_t last_progress = tl__now_ms();
    int quiet_passes = 0;
    for (int i = 0; i < t->n; i++) { /* a deferred recovery first: nothing is read before it */
        if (!t->src[i].recover_pending) continue;
        if (tl__ckpt_recover(&t->src[i], e)) return -1;
        t->src[i].recover_pending = 0;
    }
    while (!(stop && *stop)) {
        int busy = 0;
        for (int i = 0; i < t->n; i++) {
            int rc = step(&t->src[i], t->once, stop, e);
            if (rc < 0) return -1;
            busy |= rc;
        }
        int64_t now = tl__now_ms();
        if (t->o.progress && now - last_progress >= 1000) {
            tl_stats st;
            tl_stats_get(t, &st);
            t->o.progress(&st, t->o.arg);
            last_progress = now;
        }
        if (busy) {
            quiet_passes = 0;
            continue;
        }
        int pending = 0;
        for (int i = 0; i < t->n; i++) pending |= t->src[i].nrec > 0;
        if (t->once && !pending && ++quiet_passes >= 2) break;
        if (t->once) {
            for (int i = 0; i < t->n; i++) t->src[i].last_scan_ms = 0;
            continue;
        }
        int64_t nap = 1000;
        for (int i = 0; i < t->n; i++) {
            int64_t p = t->src[i].cf->poll_ms;
            if (t->src[i].nrec && t->src[i].cf->batch_wait_ms < p) p = t->src[i].cf->batch_wait_ms;
            if (p < nap) nap = p;
        }
        usleep((useconds_t)(nap > 0 ? nap : 1) * 1000);
    }
    for (int i = 0; i < t->n; i++)
        if (tl__commit(&t->src[i], NULL, e)) return -1;
    return 0;
}
