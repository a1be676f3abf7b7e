/* jobs: kind collect — the raw files of a run, streamed into the store as
 * they arrive (docs/collectors.md "Raw files and manifests").
 *
 *   raw part N (a page, a report file) ──► the run's secrets cut (ut_scrub:
 *       each secret value as it is, URL-encoded and JSON-escaped becomes
 *       "[redacted]" -- a Graph API next URL echoes its access_token) and
 *       gzip'ed here unless it came
 *       gzip'ed (ISA-L igzip level 1, 64 KiB at a time; zlib's level 6 was
 *       40% of a big report's CPU; any gunzip reads it) ──► st_writer on
 *       raw/<job>/<account>/<ds>/run<id>-NNNN.<ext>.gz  (S3: one 8 MiB part
 *       buffered, multipart above; local: a temp file renamed at the commit)
 *   the fetch ends ──► the open part committed (also after a failed fetch:
 *       kept for inspection; aborted when the fetch was canceled) ──► the
 *       manifest run<id>.manifest.json (Redshift's format, content_length =
 *       each stored object's size)
 *
 * Memory is one store part and the deflate state, whatever the report's
 * size.  A killed worker's unfinished upload is aborted by the delivery that
 * takes the task over (jb__raw_takeover), or by the sweep (jb__raw_sweep)
 * when nobody does. */
#include "jobs/jb_rt.h"
#include "log/log.h"
#include "store/store.h"

#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <isa-l/igzip_lib.h>

#define MAX_PARTS 4096 /* raw parts (pages) of one run */
#define ZOUT (64 * 1024)

typedef struct raw_part {
    char key[600], ext[16];
    uint64_t bytes;  /* received */
    int64_t rows;    /* records from it */
    uint64_t stored; /* its stored size (committed) */
    int committed;
} raw_part;

struct jb_raw {
    jb_task_ctx *c;
    char prefix[400];   /* raw_prefix */
    raw_part *parts;
    int nparts, cap;
    st_writer *w;       /* the current part's, NULL when none is open */
    int started;        /* the current part got bytes */
    int deflating;      /* compressing into w (the part did not come gzip'ed) */
    struct isal_zstream z;
    unsigned char *zout, *zlevel; /* output buffer, igzip's level 1 state */
    ut_scrub *scrub;    /* the run's secret values (made at the first part) */
    char man_key[600];  /* the manifest, once stored */
    uint64_t man_bytes;
    ut_error err;       /* why a hook failed */
};

void jb__raw_prefix(const jb_task_ctx *c, char *out, size_t n)
{
    char ds[JB_DS_LEN];
    jb__ds(c->timing, c->run->window_start, ds);
    snprintf(out, n, "raw/%s/%s/%s/run%lld", c->job->name, c->run->part[0] ? c->run->part : "_",
             ds, (long long)c->run->id);
}

jb_raw *jb__raw_create(jb_task_ctx *c)
{
    jb_raw *r = ut_calloc(1, sizeof *r);
    r->c = c;
    jb__raw_prefix(c, r->prefix, sizeof r->prefix);
    return r;
}

/* Feed p[0..n) (last: the end of the part) through igzip into the
 * writer.  0 / -1. */
static int deflate_into(jb_raw *r, const void *p, size_t n, int last)
{
    char err[512];
    r->z.next_in = (uint8_t *)(uintptr_t)p;
    r->z.avail_in = (uint32_t)n;
    r->z.end_of_stream = (uint16_t)last;
    do {
        r->z.next_out = r->zout;
        r->z.avail_out = ZOUT;
        if (isal_deflate(&r->z) != COMP_OK)
            return ut_fail(&r->err, UT_EIO, "raw file %s: deflate failed",
                           r->parts[r->nparts - 1].key);
        size_t got = ZOUT - r->z.avail_out;
        if (got && st_writer_write(r->w, r->zout, got, err, sizeof err))
            return ut_fail(&r->err, UT_EIO, "raw file: %s", err);
    } while (r->z.avail_in || r->z.avail_out == 0 ||
             (last && r->z.internal_state.state != ZSTATE_END));
    return 0;
}

static int scrub_out(void *ctx, const void *p, size_t n) { return deflate_into(ctx, p, n, 0); }
static int scrub_drop(void *ctx, const void *p, size_t n) { return (void)ctx, (void)p, (void)n, 0; }

/* The scrubber of the run's secrets (c->redact is complete once the
 * templates were expanded, before the first part). */
static void scrub_make(jb_raw *r)
{
    if (r->scrub) return;
    r->scrub = ut_scrub_create("[redacted]");
    const jb_redact *rd = r->c->redact;
    for (int i = 0; rd && i < rd->n; i++)
        if (rd->v[i] && cl_scrub_secret(r->scrub, rd->v[i]))
            lg_warn("jobs", "job %s: more than %d secret forms: the rest are not cut from raw "
                    "files", r->c->job->name, UT_SCRUB_MAX);
}

/* Close the open part: commit (keep) or abort it.  0 / -1. */
static int part_end(jb_raw *r, int keep)
{
    if (!r->w) return 0;
    raw_part *p = &r->parts[r->nparts - 1];
    int rc = 0;
    char err[512];
    if (r->deflating) rc = ut_scrub_end(r->scrub, keep ? scrub_out : scrub_drop, r);
    if (keep && r->deflating && rc == 0) rc = deflate_into(r, NULL, 0, 1);
    r->deflating = 0;
    if (keep && rc == 0) {
        if (st_writer_commit(r->w, &p->stored, err, sizeof err))
            rc = ut_fail(&r->err, UT_EIO, "raw file: %s", err);
        else p->committed = 1;
    }
    st_writer_destroy(r->w); /* aborts what was not committed */
    r->w = NULL;
    return rc;
}

int jb__raw_begin(jb_raw *r, const char *ext)
{
    if (part_end(r, 1)) return -1;
    if (r->nparts == MAX_PARTS)
        return ut_fail(&r->err, UT_ETOOBIG, "more than %d raw parts", MAX_PARTS);
    if (r->nparts == r->cap) {
        r->cap = r->cap ? r->cap * 2 : 16;
        r->parts = ut_realloc(r->parts, (size_t)r->cap * sizeof *r->parts);
    }
    raw_part *p = &r->parts[r->nparts];
    memset(p, 0, sizeof *p);
    snprintf(p->ext, sizeof p->ext, "%s", ext && ext[0] ? ext : "bin");
    snprintf(p->key, sizeof p->key, "%s-%04d.%s.gz", r->prefix, r->nparts, p->ext);
    char err[512];
    r->w = st_writer_open(r->c->store, p->key, err, sizeof err);
    if (!r->w) return ut_fail(&r->err, UT_EIO, "raw file: %s", err);
    r->nparts++;
    r->started = 0;
    scrub_make(r);
    return 0;
}

int jb__raw_write(jb_raw *r, const void *data, size_t n)
{
    if (!r->w || !n) return 0;
    const unsigned char *b = data;
    if (!r->started++ && !(n >= 2 && b[0] == 0x1f && b[1] == 0x8b)) {
        if (!r->zout) r->zout = ut_malloc(ZOUT), r->zlevel = ut_malloc(ISAL_DEF_LVL1_DEFAULT);
        isal_deflate_init(&r->z);
        r->z.gzip_flag = IGZIP_GZIP;
        r->z.level = 1;
        r->z.level_buf = r->zlevel;
        r->z.level_buf_size = ISAL_DEF_LVL1_DEFAULT;
        r->deflating = 1;
    }
    r->parts[r->nparts - 1].bytes += n;
    if (r->deflating) {
        for (size_t off = 0; off < n;) { /* (avail_in is 32 bits) */
            size_t k = n - off < (1u << 30) ? n - off : (1u << 30);
            if (ut_scrub_feed(r->scrub, b + off, k, scrub_out, r)) return -1;
            off += k;
        }
        return 0;
    }
    char err[512];
    if (st_writer_write(r->w, data, n, err, sizeof err))
        return ut_fail(&r->err, UT_EIO, "raw file: %s", err);
    return 0;
}

void jb__raw_row(jb_raw *r)
{
    if (r->nparts) r->parts[r->nparts - 1].rows++;
}

const char *jb__raw_error(const jb_raw *r) { return r->err.msg; }

/* The manifest of the committed parts.  0 / -1. */
static int store_manifest(jb_raw *r, ut_error *e)
{
    jb_task_ctx *c = r->c;
    char key[600], uri[1200], err[512];
    ut_buf m = {0};
    ut_buf_puts(&m, "{\"entries\":[");
    int n = 0;
    for (int i = 0; i < r->nparts; i++) {
        if (!r->parts[i].committed) continue;
        ut_buf_puts(&m, n++ ? ",{\"url\":" : "{\"url\":");
        const char *u = st_uri(c->store, r->parts[i].key, uri, sizeof uri);
        ut_json_str(&m, u, strlen(u));
        ut_buf_printf(&m, ",\"mandatory\":true,\"meta\":{\"content_length\":%" PRIu64 "}}",
                      r->parts[i].stored);
    }
    ut_buf_puts(&m, "]}\n");
    snprintf(key, sizeof key, "%s.manifest.json", r->prefix);
    int rc = 0;
    if (st_put(c->store, key, m.p, m.len, err, sizeof err))
        rc = ut_fail(e, UT_EIO, "job %s: manifest %s: %s", c->job->name, key, err);
    else snprintf(r->man_key, sizeof r->man_key, "%s", key), r->man_bytes = m.len;
    ut_buf_free(&m);
    return rc;
}

int jb__raw_finish(jb_raw *r, int keep_open, ut_error *e)
{
    if (part_end(r, keep_open))
        return ut_fail(e, r->err.kind ? r->err.kind : UT_EIO, "job %s: %s", r->c->job->name,
                       r->err.msg);
    return store_manifest(r, e);
}

void jb__raw_announce(jb_raw *r, jb_announce *an)
{
    jb_stored_file *f = ut_calloc((size_t)r->nparts + 1, sizeof *f);
    int n = 0;
    for (int i = 0; i < r->nparts; i++)
        if (r->parts[i].committed)
            f[n++] = (jb_stored_file){.key = r->parts[i].key, .format = r->parts[i].ext,
                                      .bytes = r->parts[i].stored, .rows = r->parts[i].rows};
    if (r->man_key[0])
        f[n++] = (jb_stored_file){.key = r->man_key, .format = "json", .bytes = r->man_bytes,
                                  .manifest = 1};
    if (jb__collect_announce(r->c, f, n, an))
        lg_warn("jobs", "job %s: %s.files is not a stream name: files not announced",
                r->c->job->name, r->c->job->name);
    free(f);
}

void jb__raw_destroy(jb_raw *r)
{
    if (!r) return;
    (void)part_end(r, 0);
    free(r->zout);
    free(r->zlevel);
    ut_scrub_destroy(r->scrub);
    free(r->parts);
    free(r);
}
