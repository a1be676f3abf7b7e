/* jobs: kind collect's raw files on a local store -- parts streamed through
 * the store writer (gzip'ed here, or kept as they came gzip'ed), the
 * manifest's content_length, a canceled part aborted, the takeover's cleanup
 * of the run's prefix, and the sweep's rules. */
#include "catalog/catalog.h"
#include "config/config.h"
#include "jobs/jb_int.h"
#include "store/store.h"
#include "t.h"

#include <dirent.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <sys/time.h>
#include <zlib.h>

typedef struct fixture {
    char root[4200];
    st_store *st;
    cf_job job;
    ct_run run;
    ct_run_done done;
    jb_task_ctx c;
} fixture;

static int fixture_init(fixture *f, const char *name, int deliveries)
{
    char err[512];
    memset(f, 0, sizeof *f);
    snprintf(f->root, sizeof f->root, "%s/%s", t_tmpdir(), name);
    f->st = st_local_create(f->root, err, sizeof err);
    if (!f->st) return -1;
    snprintf(f->job.name, sizeof f->job.name, "gads");
    f->run.id = 5;
    f->run.window_start = 1662768000000000LL; /* 2022-09-10 */
    snprintf(f->run.part, sizeof f->run.part, "acc20");
    f->done.deliveries = deliveries;
    f->c = (jb_task_ctx){.job = &f->job, .run = &f->run, .done = &f->done, .store = f->st};
    return 0;
}

/* gunzip the object at key into out.  0 / -1. */
static int gunzip_obj(st_store *st, const char *key, ut_buf *out)
{
    char err[512];
    ut_buf b = {0};
    if (st_get(st, key, 0, 0, &b, err, sizeof err)) return -1;
    z_stream z = {0};
    inflateInit2(&z, 15 + 16);
    z.next_in = b.p;
    z.avail_in = (uInt)b.len;
    unsigned char tmp[65536];
    int zr;
    do {
        z.next_out = tmp;
        z.avail_out = sizeof tmp;
        zr = inflate(&z, Z_NO_FLUSH);
        ut_buf_put(out, tmp, sizeof tmp - z.avail_out);
    } while (zr == Z_OK);
    inflateEnd(&z);
    ut_buf_free(&b);
    return zr == Z_STREAM_END ? 0 : -1;
}

static int count_tmp_files(const char *dir)
{
    DIR *d = opendir(dir);
    if (!d) return 0;
    int n = 0;
    struct dirent *e;
    while ((e = readdir(d))) n += !strncmp(e->d_name, ".tmp-", 5);
    closedir(d);
    return n;
}

TEST(collect_raw_parts_stream_into_the_store)
{
    fixture f;
    char err[512];
    CHECK(fixture_init(&f, "raw1", 1) == 0);
    jb_raw *r = jb__raw_create(&f.c);
    /* part 0: a plain CSV of 3 MB, given in odd pieces */
    ut_buf csv = {0};
    for (int i = 0; i < 60000; i++) ut_buf_printf(&csv, "2022-09-10,acc20,%d,\"c, %d\",%d\n", i, i % 97, i * 7);
    CHECK(jb__raw_begin(r, "csv") == 0);
    for (size_t off = 0; off < csv.len;) {
        size_t k = csv.len - off < 77777 ? csv.len - off : 77777;
        CHECK(jb__raw_write(r, csv.p + off, k) == 0);
        off += k;
    }
    jb__raw_row(r);
    jb__raw_row(r);
    /* nothing visible until the part ends: one temp file beside it */
    char dir[4400];
    snprintf(dir, sizeof dir, "%s/raw/gads/acc20/2022-09-10", f.root);
    CHECK(st_head(f.st, "raw/gads/acc20/2022-09-10/run5-0000.csv.gz", NULL, NULL, err,
                  sizeof err) == 0);
    CHECK_EQ_INT(count_tmp_files(dir), 1);
    /* part 1: came gzip'ed: stored byte for byte */
    unsigned char gz[256];
    uLongf gzn = sizeof gz;
    z_stream z = {0};
    deflateInit2(&z, 6, Z_DEFLATED, 15 + 16, 8, Z_DEFAULT_STRATEGY);
    z.next_in = (Bytef *)"{\"a\":1}\n";
    z.avail_in = 8;
    z.next_out = gz;
    z.avail_out = sizeof gz;
    CHECK(deflate(&z, Z_FINISH) == Z_STREAM_END);
    gzn = sizeof gz - z.avail_out;
    deflateEnd(&z);
    CHECK(jb__raw_begin(r, "ndjson") == 0);
    CHECK(jb__raw_write(r, gz, gzn) == 0);
    jb__raw_row(r);
    ut_error e = {0};
    CHECK_MSG(jb__raw_finish(r, 1, &e) == 0, "%s", e.msg);
    CHECK_EQ_INT(count_tmp_files(dir), 0);
    ut_buf got = {0};
    CHECK(gunzip_obj(f.st, "raw/gads/acc20/2022-09-10/run5-0000.csv.gz", &got) == 0);
    CHECK(got.len == csv.len && !memcmp(got.p, csv.p, csv.len));
    ut_buf b = {0};
    CHECK(st_get(f.st, "raw/gads/acc20/2022-09-10/run5-0001.ndjson.gz", 0, 0, &b, err,
                 sizeof err) == 0);
    CHECK(b.len == gzn && !memcmp(b.p, gz, gzn));
    /* the manifest: each entry's content_length is the stored size */
    uint64_t s0 = 0, s1 = 0;
    CHECK(st_head(f.st, "raw/gads/acc20/2022-09-10/run5-0000.csv.gz", &s0, NULL, err, sizeof err) == 1);
    CHECK(st_head(f.st, "raw/gads/acc20/2022-09-10/run5-0001.ndjson.gz", &s1, NULL, err, sizeof err) == 1);
    CHECK(s0 > 0 && s0 < csv.len / 3);
    ut_buf_reset(&b);
    CHECK(st_get(f.st, "raw/gads/acc20/2022-09-10/run5.manifest.json", 0, 0, &b, err, sizeof err) == 0);
    ut_buf_putc(&b, 0);
    char want[256];
    snprintf(want, sizeof want, "run5-0000.csv.gz\",\"mandatory\":true,\"meta\":{\"content_length\":%llu}}",
             (unsigned long long)s0);
    CHECK_MSG(strstr((char *)b.p, want), "%s", (char *)b.p);
    snprintf(want, sizeof want, "run5-0001.ndjson.gz\",\"mandatory\":true,\"meta\":{\"content_length\":%llu}}",
             (unsigned long long)s1);
    CHECK_MSG(strstr((char *)b.p, want), "%s", (char *)b.p);
    jb__raw_destroy(r);
    jb__raw_destroy(NULL);
    ut_buf_free(&b);
    ut_buf_free(&got);
    ut_buf_free(&csv);
    st_destroy(f.st);
}

/* A canceled fetch: the open part is aborted, the committed ones are kept
 * and the manifest lists only them; a destroyed run leaves no temp file. */
TEST(collect_raw_canceled_part_aborted)
{
    fixture f;
    char err[512];
    CHECK(fixture_init(&f, "raw2", 1) == 0);
    jb_raw *r = jb__raw_create(&f.c);
    CHECK(jb__raw_begin(r, "json") == 0);
    CHECK(jb__raw_write(r, "[{\"a\":1}]", 9) == 0);
    CHECK(jb__raw_begin(r, "json") == 0);
    CHECK(jb__raw_write(r, "[{\"a\":", 6) == 0);
    ut_error e = {0};
    CHECK_MSG(jb__raw_finish(r, 0, &e) == 0, "%s", e.msg);
    jb__raw_destroy(r);
    CHECK(st_head(f.st, "raw/gads/acc20/2022-09-10/run5-0000.json.gz", NULL, NULL, err, sizeof err) == 1);
    CHECK(st_head(f.st, "raw/gads/acc20/2022-09-10/run5-0001.json.gz", NULL, NULL, err, sizeof err) == 0);
    ut_buf b = {0};
    CHECK(st_get(f.st, "raw/gads/acc20/2022-09-10/run5.manifest.json", 0, 0, &b, err, sizeof err) == 0);
    ut_buf_putc(&b, 0);
    CHECK(strstr((char *)b.p, "run5-0000") && !strstr((char *)b.p, "run5-0001"));
    ut_buf_free(&b);
    r = jb__raw_create(&f.c);
    CHECK(jb__raw_begin(r, "csv") == 0);
    CHECK(jb__raw_write(r, "a,b\n", 4) == 0);
    jb__raw_destroy(r); /* (a failure before finish) */
    char dir[4400];
    snprintf(dir, sizeof dir, "%s/raw/gads/acc20/2022-09-10", f.root);
    CHECK_EQ_INT(count_tmp_files(dir), 0);
    st_destroy(f.st);
}

static void touch_old(const char *path, int64_t age_s)
{
    FILE *fp = fopen(path, "w");
    if (fp) fputs("partial", fp), fclose(fp);
    struct timeval tv[2];
    gettimeofday(&tv[0], NULL);
    tv[0].tv_sec -= age_s;
    tv[1] = tv[0];
    utimes(path, tv);
}

/* The delivery that takes a task over removes what the one before left
 * under its run's prefix -- unfinished writes and committed parts -- and
 * nothing of another run; a first delivery touches nothing. */
TEST(collect_raw_takeover_cleans_the_run_prefix)
{
    fixture f;
    char err[512], p[4600];
    CHECK(fixture_init(&f, "raw3", 1) == 0);
    const char *d = "raw/gads/acc20/2022-09-10";
    char k[600];
    snprintf(k, sizeof k, "%s/run5-0000.csv.gz", d);
    CHECK(st_put(f.st, k, "x", 1, err, sizeof err) == 0);
    snprintf(k, sizeof k, "%s/run5.manifest.json", d);
    CHECK(st_put(f.st, k, "{}", 2, err, sizeof err) == 0);
    snprintf(k, sizeof k, "%s/run50-0000.csv.gz", d);
    CHECK(st_put(f.st, k, "y", 1, err, sizeof err) == 0);
    snprintf(p, sizeof p, "%s/%s/.tmp-up-999999-1-run5-0001.csv.gz", f.root, d);
    touch_old(p, 0);
    snprintf(p, sizeof p, "%s/%s/.tmp-up-999999-2-run50-0001.csv.gz", f.root, d);
    touch_old(p, 0);
    CHECK_EQ_INT(jb__raw_takeover(&f.c), 0); /* delivery 1 */
    f.done.deliveries = 2;
    CHECK_EQ_INT(jb__raw_takeover(&f.c), 3);
    snprintf(k, sizeof k, "%s/run5-0000.csv.gz", d);
    CHECK(st_head(f.st, k, NULL, NULL, err, sizeof err) == 0);
    snprintf(k, sizeof k, "%s/run50-0000.csv.gz", d);
    CHECK(st_head(f.st, k, NULL, NULL, err, sizeof err) == 1);
    snprintf(p, sizeof p, "%s/%s", f.root, d);
    CHECK_EQ_INT(count_tmp_files(p), 1); /* run50's */
    st_destroy(f.st);
}

TEST(collect_raw_sweep_rules)
{
    fixture f;
    char err[512], p[4600], path[4200];
    CHECK(fixture_init(&f, "raw4", 1) == 0);
    snprintf(path, sizeof path, "%s/sweep.db", t_tmpdir());
    ct_catalog *cat = ct_open(path, err, sizeof err);
    CHECK_MSG(cat, "%s", err);
    ct_run running, waiting;
    memset(&running, 0, sizeof running);
    snprintf(running.job, sizeof running.job, "gads");
    running.state = CT_RUN_WAITING;
    running.task = -1;
    waiting = running;
    CHECK(ct_run_create(cat, &running, err, sizeof err) == 0);
    CHECK(ct_run_create(cat, &waiting, err, sizeof err) == 0);
    CHECK_EQ_INT(ct_run_queue(cat, running.id, 5, err, sizeof err), 1);
    CHECK_EQ_INT(ct_run_start(cat, running.id, 5, 1, "w1", err, sizeof err), 1);
    jb_raw_sweep_opts o = {.idle_ms = 60000, .grace_ms = 600000, .age_ms = 86400000};
    int64_t now = 1800000000000LL;
    char kr[200], kw[200];
    snprintf(kr, sizeof kr, "raw/gads/a/2022-09-10/run%lld-0000.csv.gz", (long long)running.id);
    snprintf(kw, sizeof kw, "raw/gads/a/2022-09-10/run%lld-0000.csv.gz", (long long)waiting.id);
    /* local: a living writer's never; nobody's once idle */
    CHECK(!jb__raw_stale(kw, now - 2 * o.age_ms, 1, cat, now, &o));
    CHECK(!jb__raw_stale(kw, now - 1000, 0, cat, now, &o));
    CHECK(jb__raw_stale(kw, now - o.idle_ms, 0, cat, now, &o));
    /* S3 (cannot tell): within the grace never; then unless its run runs */
    CHECK(!jb__raw_stale(kw, now - 1000, -1, cat, now, &o));
    CHECK(jb__raw_stale(kw, now - o.grace_ms, -1, cat, now, &o));
    CHECK(!jb__raw_stale(kr, now - o.grace_ms, -1, cat, now, &o));
    CHECK(jb__raw_stale("raw/gads/a/2022-09-10/run999999-0000.csv.gz", now - o.grace_ms, -1, cat,
                        now, &o)); /* no such run */
    CHECK(!jb__raw_stale("raw/gads/a/x.csv.gz", now - o.grace_ms, -1, cat, now, &o));
    CHECK(!jb__raw_stale(kw, now - o.grace_ms, -1, NULL, now, &o));
    CHECK(jb__raw_stale(kr, now - o.age_ms, -1, cat, now, &o)); /* too old anyway */
    /* the sweep on a local store: nobody's idle temp files go, the rest stay */
    const char *d = "raw/gads/a/2022-09-10";
    snprintf(p, sizeof p, "%s/%s", f.root, d);
    CHECK(ut_mkdir_p(p, err, sizeof err) == 0);
    snprintf(p, sizeof p, "%s/%s/.tmp-up-999999-1-run7-0001.csv.gz", f.root, d);
    touch_old(p, 3600);
    snprintf(p, sizeof p, "%s/%s/.tmp-up-999999-2-run7-0002.csv.gz", f.root, d);
    touch_old(p, 1);
    st_writer *w = st_writer_open(f.st, "raw/gads/a/2022-09-10/run8-0000.csv.gz", err, sizeof err);
    CHECK(w);
    snprintf(p, sizeof p, "%s/%s", f.root, d);
    CHECK_EQ_INT(count_tmp_files(p), 3);
    struct timeval tv;
    gettimeofday(&tv, NULL);
    jb_raw_sweep_opts lo = {.idle_ms = 60000, .grace_ms = 600000, .age_ms = 86400000};
    CHECK_EQ_INT(jb__raw_sweep(f.st, cat, (int64_t)tv.tv_sec * 1000 + tv.tv_usec / 1000, &lo), 1);
    CHECK_EQ_INT(count_tmp_files(p), 2);
    CHECK(st_writer_commit(w, NULL, err, sizeof err) == 0);
    st_writer_destroy(w);
    ct_close(cat);
    st_destroy(f.st);
}
