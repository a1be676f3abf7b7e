/* POST /v1/streams/{stream}/records
 *
 * First call (headers only): find the stream (sv__status_of its error kind:
 * 404 unknown, 409 table collision, 429 too many streams, 503 + Retry-After
 * when its journal or lake sink cannot start), check the token (401),
 * the declared length (413), the disk budget and free space (507) and the
 * memory held by bodies in flight (429 + Retry-After).  Then the body is
 * buffered up to the limit, decoded and split into records; valid records are
 * appended to the journal in one group-committed batch and the reply is sent
 * only after they are durable.  Invalid records go to "<stream>.errors" with
 * the reason, and the reply lists them by index.
 */
#include "log/log.h"
#include "server/sv_int.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/statvfs.h>
#include <time.h>

#define MAX_LISTED_ERRORS 1000

typedef struct ingest_ctx {
    char tag[4];         /* "ING" (the query endpoint's context says "QRY") */
    sv__stream *st;
    ut_buf body;
    int status;          /* early failure while reading the body */
    char msg[256];
    uint64_t held;       /* bytes counted in s->inflight_bytes */
} ingest_ctx;

static int64_t now_us(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_REALTIME, &ts);
    return (int64_t)ts.tv_sec * 1000000 + ts.tv_nsec / 1000;
}

static void add(uint64_t *counter, uint64_t n)
{
    __atomic_fetch_add(counter, n, __ATOMIC_RELAXED);
}

/* 507 when the stream is over its budget or the disk is nearly full. */
int sv__storage_full(sv_server *s, sv__stream *st, char *msg, size_t n)
{
    if (st->max_bytes) {
        jr_info info;
        jr_stream_info(st->jr, &info);
        /* Retention runs when a segment rolls; a stream over its budget
         * takes no appends, so nothing would roll: apply it here, or the
         * stream stays refused long after its old segments expired. */
        if (info.bytes >= st->max_bytes && jr_stream_retain(st->jr, now_us() / 1000) > 0)
            jr_stream_info(st->jr, &info);
        if (info.bytes >= st->max_bytes) {
            snprintf(msg, n, "stream '%s' is over its disk budget (%llu of %llu bytes)", st->name,
                     (unsigned long long)info.bytes, (unsigned long long)st->max_bytes);
            return 1;
        }
    }
    struct statvfs v;
    if (s->o.min_free_disk && statvfs(s->streams_dir, &v) == 0) {
        uint64_t free_b = (uint64_t)v.f_bavail * v.f_frsize;
        if (free_b < s->o.min_free_disk) {
            snprintf(msg, n, "disk nearly full: %llu bytes free, ingest needs at least %llu",
                     (unsigned long long)free_b, (unsigned long long)s->o.min_free_disk);
            return 1;
        }
    }
    return 0;
}

void sv__body_release(sv_server *s, ut_buf *body, uint64_t *held)
{
    if (*held) __atomic_fetch_sub(&s->inflight_bytes, *held, __ATOMIC_RELAXED);
    *held = 0;
    ut_buf_free(body);
}

int sv__body_take(sv_server *s, ut_buf *body, uint64_t *held, size_t cap, const char *upload,
                  size_t n, char *msg, size_t msglen)
{
    if (body->len + n > cap) {
        snprintf(msg, msglen, "body is over the %zu-byte limit", cap);
        sv__body_release(s, body, held);
        return 413;
    }
    uint64_t now = __atomic_add_fetch(&s->inflight_bytes, n, __ATOMIC_RELAXED);
    *held += n;
    if (now > s->max_inflight_bytes) {
        snprintf(msg, msglen, "server is busy: too much request data in flight");
        sv__body_release(s, body, held);
        return 429;
    }
    ut_buf_put(body, upload, n);
    return 0;
}

void sv__ingest_done(sv_server *s, void *ctx)
{
    ingest_ctx *x = ctx;
    if (!x) return;
    sv__body_release(s, &x->body, &x->held);
    free(x);
}

int sv__status_of(ut_errkind kind)
{
    switch (kind) {
    case UT_EINVAL:
    case UT_ETOODEEP: return 400;
    case UT_EDENIED: return 403;
    case UT_ENOTFOUND: return 404;
    case UT_ETIMEOUT: return 408;
    case UT_EEXISTS: return 409;
    case UT_ETOOBIG: return 413;
    case UT_ELIMIT: return 429;
    case UT_EIO: return 503;
    case UT_ENOSPACE: return 507;
    default: return 500;
    }
}

static enum MHD_Result first_call(sv_server *s, struct MHD_Connection *c, const char *stream,
                                  void **ctx)
{
    char err[300];
    ut_error e = {0};
    sv__stream *st = sv__stream_get(s, stream, 1, &e);
    if (!st) return sv__reply_error(s, c, sv__status_of(e.kind), e.msg);
    const char *auth = MHD_lookup_connection_value(c, MHD_HEADER_KIND, "Authorization");
    if (!sv__auth_ok(st, auth)) {
        add(&st->requests, 1);
        return sv__reply_error(s, c, 401, auth ? "invalid token" : "missing Bearer token");
    }
    const char *cl = MHD_lookup_connection_value(c, MHD_HEADER_KIND, "Content-Length");
    if (cl && strtoull(cl, NULL, 10) > s->o.limits.max_body) {
        snprintf(err, sizeof err, "body is %s bytes, over the %zu-byte limit", cl,
                 s->o.limits.max_body);
        return sv__reply_error(s, c, 413, err);
    }
    if (sv__storage_full(s, st, err, sizeof err)) return sv__reply_error(s, c, 507, err);
    ingest_ctx *x = ut_calloc(1, sizeof *x);
    memcpy(x->tag, "ING", 4);
    x->st = st;
    if (cl) /* reserve the declared body once: no regrowth copies (capped above) */
        ut_buf_reserve(&x->body, (size_t)strtoull(cl, NULL, 10));
    *ctx = x;
    return MHD_YES;
}

void sv__record_errors(sv_server *s, sv__stream *st, const sv_batch *b, int64_t ts)
{
    char err[300];
    jr_stream *es = sv__errors_stream(s, st, err, sizeof err);
    if (!es) {
        lg_error("server", "stream %s: cannot open error stream: %s", st->name, err);
        return;
    }
    ut_buf env = {0};
    size_t *offs = ut_malloc((size_t)b->nbad * sizeof *offs);
    char ts_text[40];
    ut_ts_format(ts_text, ts);
    for (int i = 0; i < b->nbad; i++) {
        const sv_bad *x = &b->bad[i];
        offs[i] = env.len;
        ut_buf_printf(&env, "{\"stream\":");
        ut_json_str(&env, st->name, strlen(st->name));
        ut_buf_printf(&env, ",\"index\":%d,\"line\":%d,\"reason\":\"%s\",\"message\":", x->index,
                      x->line, sv_reject_name(x->why));
        ut_json_str(&env, x->msg, strlen(x->msg));
        ut_buf_printf(&env, ",\"received_at\":\"%s\",\"record\":", ts_text);
        ut_json_str(&env, x->p, x->n);
        ut_buf_putc(&env, '}');
    }
    jr_iov *v = ut_malloc((size_t)b->nbad * sizeof *v);
    for (int i = 0; i < b->nbad; i++) {
        v[i].p = env.p + offs[i];
        v[i].n = (i + 1 < b->nbad ? offs[i + 1] : env.len) - offs[i];
    }
    uint64_t first;
    if (jr_append(es, v, b->nbad, ts, &first, err, sizeof err))
        lg_error("server", "stream %s: cannot record %d rejected records: %s", st->name, b->nbad,
                 err);
    free(v);
    free(offs);
    ut_buf_free(&env);
}

static enum MHD_Result finish(sv_server *s, struct MHD_Connection *c, ingest_ctx *x)
{
    sv__stream *st = x->st;
    char err[300];
    add(&st->requests, 1);
    if (x->status) return sv__reply_error(s, c, x->status, x->msg);
    const char *enc = MHD_lookup_connection_value(c, MHD_HEADER_KIND, "Content-Encoding");
    js_parser *p = js_parser_create(s->o.limits.max_record + 64, s->o.limits.max_depth);
    sv_batch b;
    memset(&b, 0, sizeof b);
    b.xf = sv__xf_run(s, st);
    enum MHD_Result r;
    int status = sv_body_parse(p, x->body.p, x->body.len, enc, &s->o.limits, &b, err, sizeof err);
    js_parser_destroy(p);
    xf_run_destroy(b.xf);
    b.xf = NULL;
    add(&st->dropped, (uint64_t)b.ndropped);
    if (status) {
        r = sv__reply_error(s, c, status, err);
        goto done;
    }
    int64_t ts = now_us();
    uint64_t first = 0;
    if (b.nok) {
        ut_error je = {0};
        if (jr_append_e(st->jr, b.ok, b.nok, ts, &first, &je)) {
            r = sv__reply_error(s, c, sv__status_of(je.kind), je.msg);
            goto done;
        }
        uint64_t bytes = 0;
        for (int i = 0; i < b.nok; i++) bytes += b.ok[i].n;
        add(&st->records_in, (uint64_t)b.nok);
        add(&st->bytes_in, bytes);
    }
    if (b.nbad) {
        for (int i = 0; i < b.nbad; i++) add(&st->rejects[b.bad[i].why], 1);
        sv__record_errors(s, st, &b, ts);
    }
    ut_buf out = {0};
    ut_buf_printf(&out, "{\"accepted\":%d,\"rejected\":%d", b.nok, b.nbad);
    if (b.ndropped) ut_buf_printf(&out, ",\"dropped\":%d", b.ndropped);
    if (b.nok)
        ut_buf_printf(&out, ",\"first_offset\":%llu,\"last_offset\":%llu",
                      (unsigned long long)first, (unsigned long long)(first + (uint64_t)b.nok - 1));
    if (b.nbad) {
        ut_buf_puts(&out, ",\"errors\":[");
        for (int i = 0; i < b.nbad && i < MAX_LISTED_ERRORS; i++) {
            const sv_bad *e = &b.bad[i];
            ut_buf_printf(&out, "%s{\"index\":%d,", i ? "," : "", e->index);
            if (e->line) ut_buf_printf(&out, "\"line\":%d,", e->line);
            ut_buf_printf(&out, "\"reason\":\"%s\",\"message\":", sv_reject_name(e->why));
            ut_json_str(&out, e->msg, strlen(e->msg));
            ut_buf_putc(&out, '}');
        }
        ut_buf_putc(&out, ']');
        if (b.nbad > MAX_LISTED_ERRORS) ut_buf_puts(&out, ",\"errors_truncated\":true");
    }
    ut_buf_puts(&out, "}\n");
    r = sv__reply(s, c, b.nok || b.ndropped ? 200 : 400, "application/json", out.p, out.len, NULL);
    ut_buf_free(&out);
done:
    sv_batch_free(&b);
    return r;
}

enum MHD_Result sv__ingest(sv_server *s, struct MHD_Connection *c, const char *stream,
                           const char *upload, size_t *upload_size, void **ctx)
{
    if (!*ctx) return first_call(s, c, stream, ctx);
    ingest_ctx *x = *ctx;
    if (*upload_size) {
        size_t n = *upload_size;
        *upload_size = 0;
        if (x->status) return MHD_YES; /* discarding the rest of a refused body */
        x->status = sv__body_take(s, &x->body, &x->held, s->o.limits.max_body, upload, n,
                                  x->msg, sizeof x->msg);
        return MHD_YES;
    }
    return finish(s, c, x);
}
