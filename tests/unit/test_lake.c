/* Lake sink: schema widening, event time, partitions, and a sink round trip
 * (journal -> files + position committed; garbage collected; resume). */
#include "t.h"
#include "lake/sink_int.h"
#include "sql/sql.h"

#include <dirent.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>
#include <xxhash.h>

TEST(lake_schema_widening)
{
    lk__schema s;
    lk__schema_init(&s, 0, 4);
    CHECK_EQ_INT(lk__schema_observe(&s, "a", 1, JS_INT, 0), 0);
    CHECK_EQ_INT(s.cols[0].type, CT_INT64);
    lk__schema_observe(&s, "a", 1, JS_DOUBLE, 0);
    CHECK_EQ_INT(s.cols[0].type, CT_DOUBLE);          /* int -> double */
    lk__schema_observe(&s, "a", 1, JS_INT, 0);
    CHECK_EQ_INT(s.cols[0].type, CT_DOUBLE);          /* never narrows */
    lk__schema_observe(&s, "a", 1, JS_STRING, 0);
    CHECK_EQ_INT(s.cols[0].type, CT_STRING);          /* -> string */
    lk__schema_observe(&s, "t", 1, JS_STRING, 1);
    CHECK_EQ_INT(s.cols[1].type, CT_TIMESTAMP);
    lk__schema_observe(&s, "t", 1, JS_STRING, 0);
    CHECK_EQ_INT(s.cols[1].type, CT_STRING);          /* timestamp + text -> string */
    lk__schema_observe(&s, "b", 1, JS_NULL, 0);
    CHECK_EQ_INT(s.cols[2].type, 0);                  /* only nulls so far */
    lk__schema_observe(&s, "b", 1, JS_BOOL, 0);
    CHECK_EQ_INT(s.cols[2].type, CT_BOOL);
    lk__schema_observe(&s, "b", 1, JS_INT, 0);
    CHECK_EQ_INT(s.cols[2].type, CT_STRING);          /* bool + number -> string */
    lk__schema_observe(&s, "o", 1, JS_OBJECT, 0);
    CHECK_EQ_INT(s.cols[3].type, CT_STRING);          /* nested -> JSON text */
    CHECK_EQ_INT(lk__schema_observe(&s, "x", 1, JS_INT, 0), -1); /* column cap */
    int hint = -1;
    CHECK_EQ_INT(lk__schema_find_hint(&s, "t", 1, &hint), 1);
    CHECK_EQ_INT(hint, 1);
    CHECK_EQ_INT(lk__schema_find_hint(&s, "o", 1, &hint), 3);
    ct_column *cols;
    char change[256];
    CHECK_EQ_INT(lk__schema_snapshot(&s, &cols, change, sizeof change), 4);
    CHECK(strstr(change, "added a string"));
    free(cols);
    lk__schema_free(&s);

    lk__schema_init(&s, 0, 10000);
    CHECK_EQ_INT(s.max_columns, CT_MAX_COLUMNS); /* what the catalog accepts */
    lk__schema_free(&s);

    lk__schema_init(&s, 1, 10); /* case-insensitive */
    lk__schema_observe(&s, "Cost", 4, JS_DOUBLE, 0);
    CHECK_EQ_INT(lk__schema_find(&s, "COST", 4), 0);
    CHECK_EQ_INT(lk__schema_observe(&s, "cost", 4, JS_INT, 0), 0);
    CHECK_EQ_STR(s.cols[0].name, "Cost");             /* first spelling names it */
    lk__schema_free(&s);
}

TEST(lake_event_time_and_partitions)
{
    js_value v;
    int64_t us;
    memset(&v, 0, sizeof v);
    v.kind = JS_STRING;
    v.s = "2024-05-01T03:04:05.5Z";
    v.n = strlen(v.s);
    CHECK(lk__event_time(&v, LK_TIME_AUTO, &us) == 0);
    CHECK_EQ_INT(us, 1714532645500000LL);
    CHECK(lk__event_time(&v, LK_TIME_EPOCH_MS, &us) == -1); /* a string is not epoch ms */
    v.kind = JS_INT;
    v.i = 1714532645;                                         /* auto: seconds */
    CHECK(lk__event_time(&v, LK_TIME_AUTO, &us) == 0);
    CHECK_EQ_INT(us, 1714532645000000LL);
    v.i = 1714532645123;                                      /* auto: milliseconds */
    CHECK(lk__event_time(&v, LK_TIME_AUTO, &us) == 0);
    CHECK_EQ_INT(us, 1714532645123000LL);
    CHECK(lk__event_time(&v, LK_TIME_EPOCH_US, &us) == 0);
    CHECK_EQ_INT(us, 1714532645123LL);
    v.kind = JS_BOOL;
    CHECK(lk__event_time(&v, LK_TIME_AUTO, &us) == -1);
    char p[64];
    lk__part_path(lk__part_key(1714532645500000LL, LK_PART_DT_HR), LK_PART_DT_HR, p, sizeof p);
    CHECK_EQ_STR(p, "dt=2024-05-01/hr=03");
    lk__part_path(lk__part_key(-1, LK_PART_DT_HR), LK_PART_DT_HR, p, sizeof p);
    CHECK_EQ_STR(p, "dt=1969-12-31/hr=23");                   /* before the epoch */
    lk__part_path(lk__part_key(1714532645500000LL, LK_PART_DT), LK_PART_DT, p, sizeof p);
    CHECK_EQ_STR(p, "dt=2024-05-01");
}

static int count_files(const char *dir)
{
    char cmd[600];
    snprintf(cmd, sizeof cmd, "find %s -name '*.parquet' 2>/dev/null | wc -l", dir);
    FILE *f = popen(cmd, "r");
    int n = -1;
    if (f && fscanf(f, "%d", &n) != 1) n = -1;
    if (f) pclose(f);
    return n;
}

/* A sink's parts under the test's tmp dir: <dir>/streams (stream `stream`,
 * open), <dir>/lake (a local store), <dir>/catalog.db, <dir>/tmp, and its
 * options (table t1_<stream>, the rest at their defaults). */
typedef struct tsink {
    char base[512], sdir[600], lake[600], cat[600], tmp[600], table[80];
    jr_stream *js;
    st_store *st;
    lk_sink_opts o;
} tsink;

static int tsink_init(tsink *t, const char *dir, const char *stream, char *err, size_t errlen)
{
    memset(t, 0, sizeof *t);
    snprintf(t->base, sizeof t->base, "%s/%s", t_tmpdir(), dir);
    snprintf(t->sdir, sizeof t->sdir, "%s/streams", t->base);
    snprintf(t->lake, sizeof t->lake, "%s/lake", t->base);
    snprintf(t->cat, sizeof t->cat, "%s/catalog.db", t->base);
    snprintf(t->tmp, sizeof t->tmp, "%s/tmp", t->base);
    snprintf(t->table, sizeof t->table, "t1_%s", stream);
    if (ut_mkdir_p(t->base, err, errlen)) return -1;
    t->js = jr_stream_open(t->sdir, stream, NULL, err, errlen);
    t->st = t->js ? st_local_create(t->lake, err, errlen) : NULL;
    if (!t->st) return -1;
    lk_sink_opts_init(&t->o);
    t->o.stream_name = stream;
    t->o.stream = t->js;
    t->o.table = t->table;
    t->o.catalog_path = t->cat;
    t->o.store = t->st;
    t->o.tmp_dir = t->tmp;
    return 0;
}

static void tsink_put(tsink *t, const char *rec)
{
    jr_iov v = {rec, strlen(rec)};
    uint64_t first;
    char err[256];
    if (jr_append(t->js, &v, 1, 1714521600000000LL, &first, err, sizeof err)) printf("  %s\n", err);
}

static void tsink_free(tsink *t)
{
    jr_stream_close(t->js);
    st_destroy(t->st);
}

TEST(lake_sink_roundtrip_gc_resume)
{
    tsink T;
    char err[512];
    CHECK_MSG(tsink_init(&T, "lake1", "ev", err, sizeof err) == 0, "%s", err);
    jr_stream *js = T.js;
    const char *lake = T.lake, *cat = T.cat;
    /* 300 records over 3 hours, one bad (not an object), one over the column cap */
    char rec[200];
    uint64_t first;
    for (int i = 0; i < 300; i++) {
        int n = i == 100 ? snprintf(rec, sizeof rec, "[1,2]")
              : i == 200 ? snprintf(rec, sizeof rec, "{\"c1\":1,\"c2\":2,\"c3\":3,\"c4\":4,\"c5\":5}")
              : snprintf(rec, sizeof rec, "{\"id\":%d,\"v\":%d.5,\"event_time\":\"2024-05-01T0%d:00:00Z\"}", i, i, i % 3);
        jr_iov v = {rec, (size_t)n};
        CHECK(jr_append(js, &v, 1, 1714521600000000LL, &first, err, sizeof err) == 0);
    }
    lk_sink_opts o = T.o;
    o.max_columns = 4;
    lk_sink *s = lk_sink_create(&o, err, sizeof err);
    CHECK_MSG(s, "%s", err);
    CHECK_EQ_INT(lk_sink_step(s, 1, err, sizeof err), 300);
    lk_sink_stats k;
    lk_sink_get_stats(s, &k);
    CHECK_EQ_INT(k.position, 300);
    CHECK_EQ_INT(k.records_landed, 298);
    CHECK_EQ_INT(k.records_errored, 2);
    /* the record that adds columns (c1..) lands what was open first: 2 flushes of
     * 3 partitions + 1 errors file each */
    CHECK_EQ_INT(k.files_committed, 8);
    CHECK_EQ_INT(k.flushes, 2);
    lk_sink_destroy(s);
    char tdir[700];
    snprintf(tdir, sizeof tdir, "%s/t1_ev", lake);
    CHECK_EQ_INT(count_files(tdir), 6);

    /* a file written but never committed (a crash before the commit) ... */
    char stray[800];
    snprintf(stray, sizeof stray, "%s/dt=2024-05-01/hr=00/part-99999999999999999999-0000.parquet", tdir);
    FILE *f = fopen(stray, "w");
    CHECK(f);
    fputs("x", f);
    fclose(f);
    /* ... is removed on the next start, which resumes from position 300 */
    s = lk_sink_create(&o, err, sizeof err);
    CHECK_MSG(s, "%s", err);
    CHECK(access(stray, F_OK) != 0);
    CHECK_EQ_INT(lk_sink_step(s, 1, err, sizeof err), 0); /* nothing new: nothing re-landed */
    int n = snprintf(rec, sizeof rec, "{\"id\":300,\"v\":1,\"event_time\":\"2024-05-01T01:30:00Z\"}");
    jr_iov v = {rec, (size_t)n};
    CHECK(jr_append(js, &v, 1, 0, &first, err, sizeof err) == 0);
    CHECK_EQ_INT(lk_sink_step(s, 1, err, sizeof err), 1);
    lk_sink_get_stats(s, &k);
    CHECK_EQ_INT(k.position, 301);
    lk_sink_destroy(s);
    CHECK_EQ_INT(count_files(tdir), 7);

    /* compaction: every partition's small files become one */
    o.compact_min_files = 2;
    s = lk_sink_create(&o, err, sizeof err);
    CHECK_MSG(s, "%s", err);
    CHECK_MSG(lk_sink_maintain(s, err, sizeof err) == 0, "%s", err);
    lk_sink_get_stats(s, &k);
    CHECK_EQ_INT(k.files_compacted, 7);
    lk_sink_destroy(s);
    /* the replaced files leave the table's directory at once and stay in the
     * trash for the grace period (a running scan may read them), then go */
    char trdir[700];
    snprintf(trdir, sizeof trdir, "%s/.trash/t1_ev", lake);
    CHECK_EQ_INT(count_files(tdir), 3);
    CHECK_EQ_INT(count_files(trdir), 7);
    s = lk_sink_create(&o, err, sizeof err); /* a restart's garbage collection keeps them too */
    CHECK_MSG(s, "%s", err);
    lk_sink_destroy(s);
    CHECK_EQ_INT(count_files(tdir), 3);
    CHECK_EQ_INT(count_files(trdir), 7);
    o.trash_grace_ms = 0;
    s = lk_sink_create(&o, err, sizeof err);
    CHECK_MSG(s, "%s", err);
    CHECK_MSG(lk_sink_maintain(s, err, sizeof err) == 0, "%s", err);
    lk_sink_destroy(s);
    CHECK_EQ_INT(count_files(tdir), 3);
    CHECK_EQ_INT(count_files(trdir), 0);
    ct_catalog *c = ct_open(cat, err, sizeof err);
    CHECK_MSG(c, "%s", err);
    ct_table t;
    CHECK(ct_table_get(c, "t1_ev", &t, err, sizeof err) == 1);
    ct_file *files;
    int nf = ct_files(c, t.id, "dt=2024-05-01/hr=01", &files, err, sizeof err);
    CHECK_EQ_INT(nf, 1);
    CHECK_EQ_INT(files[0].rows, 100); /* 99 from the two flushes + 1 */
    /* the merged file is recorded with its real size (was 0) */
    char mp[1800];
    struct stat sb;
    snprintf(mp, sizeof mp, "%s/%s", tdir, nf ? files[0].path : "");
    CHECK(stat(mp, &sb) == 0);
    CHECK_EQ_INT(nf ? files[0].bytes : -1, (long long)sb.st_size);
    ct_files_free(files, nf);
    ct_table_free(&t);
    ct_close(c);
    tsink_free(&T);
}

/* Rows of the Parquet file at path, or -1 if it cannot be read. */
static int64_t file_rows(const char *path)
{
    char e[256];
    pq_reader *r = pq_reader_open(path, e, sizeof e);
    if (!r) return -1;
    int64_t n = 0;
    for (int g = 0; g < pq_reader_num_row_groups(r); g++) n += pq_reader_row_group_rows(r, g);
    pq_reader_destroy(r);
    return n;
}

/* Streams a-b and a_b both land in t1_a_b (the runtime refuses the name
 * collision; this is the lake's own guard): the second sink's file must
 * never replace the first one's committed file. */
TEST(lake_commit_never_overwrites_a_committed_file)
{
    tsink T;
    char err[512];
    CHECK_MSG(tsink_init(&T, "lake_collide", "a-b", err, sizeof err) == 0, "%s", err);
    const char *names[2] = {"a-b", "a_b"};
    int counts[2] = {10, 5};
    jr_stream *js[2] = {T.js, NULL};
    lk_sink *s[2];
    int rc[2];
    for (int k = 0; k < 2; k++) {
        if (k) js[k] = jr_stream_open(T.sdir, names[k], NULL, err, sizeof err);
        CHECK_MSG(js[k], "%s", err);
        for (int i = 0; i < counts[k]; i++) {
            char rec[100];
            uint64_t first;
            int n = snprintf(rec, sizeof rec, "{\"id\":%d,\"event_time\":\"2024-05-01T01:00:00Z\"}", i);
            jr_iov v = {rec, (size_t)n};
            CHECK(jr_append(js[k], &v, 1, 0, &first, err, sizeof err) == 0);
        }
        lk_sink_opts o = T.o;
        o.stream_name = names[k];
        o.stream = js[k];
        o.table = "t1_a_b";
        s[k] = lk_sink_create(&o, err, sizeof err);
        if (k == 1) { /* the catalog's guard: one writer per table */
            CHECK(s[k] == NULL);
            CHECK(strstr(err, "already exists for stream 'a-b', not for stream 'a_b'") != NULL);
            break;
        }
        CHECK_MSG(s[k], "%s", err);
        rc[k] = lk_sink_step(s[k], 1, err, sizeof err);
    }
    CHECK_EQ_INT(rc[0], 10); /* the store's own guard: tests/unit/test_store.c */
    char path[900];
    snprintf(path, sizeof path, "%s/t1_a_b/dt=2024-05-01/hr=01/part-%020d-0000.parquet", T.lake, 0);
    CHECK_EQ_INT(file_rows(path), 10); /* the first sink's committed file, intact */
    for (int k = 0; k < 2; k++) lk_sink_destroy(s[k]);
    jr_stream_close(js[1]);
    tsink_free(&T);
}

TEST(lake_partition_values_escape_round_trip)
{
    char out[1024], back[1024], err[256];
    CHECK_EQ_INT(lk_part_escape("a/b%c=d", 7, out, sizeof out), 13);
    CHECK_EQ_STR(out, "a%2Fb%25c%3Dd");
    CHECK(lk_part_escape("é日本 x+y", strlen("é日本 x+y"), out, sizeof out) > 0);
    CHECK_EQ_STR(out, "é日本 x+y"); /* valid UTF-8, spaces and + stay (as Hive writes them) */
    CHECK(lk_part_escape("\x01\xff.", 3, out, sizeof out) > 0);
    CHECK_EQ_STR(out, "%01%FF."); /* controls and invalid UTF-8 are escaped */
    const char *vals[] = {"", ".", "..", "a/../b", "%", "%%41", "=x=", "\"#'*:?\\{[]^\x7f",
                          "__HIVE_DEFAULT_PARTITION__", "tab\there", "é/é"};
    for (size_t i = 0; i < sizeof vals / sizeof *vals; i++) {
        long n = lk_part_escape(vals[i], strlen(vals[i]), out, sizeof out);
        CHECK(n >= 0);
        CHECK(strchr(out, '/') == NULL);
        CHECK_EQ_INT(lk_part_unescape(out, (size_t)n, back, sizeof back), (long)strlen(vals[i]));
        CHECK_EQ_STR(back, vals[i]);
    }
    CHECK_EQ_INT(lk_part_unescape("%zz%4", 5, back, sizeof back), 5); /* not escapes: literal */
    CHECK_EQ_STR(back, "%zz%4");
    /* 200 characters, no truncation; two values differing only at the end differ */
    char a[201], b[201], sa[300], sb[300];
    memset(a, 'x', 200);
    a[200] = 0;
    memcpy(b, a, sizeof a);
    b[199] = 'y';
    CHECK(lk_part_segment("k", a, 200, sa, sizeof sa, err, sizeof err) == 0);
    CHECK(lk_part_segment("k", b, 200, sb, sizeof sb, err, sizeof err) == 0);
    CHECK_EQ_INT((long)strlen(sa), 202);
    CHECK(strcmp(sa, sb) != 0);
    /* a value whose segment cannot fit is an error, never cut */
    char big[300];
    memset(big, '/', sizeof big - 1);
    big[sizeof big - 1] = 0;
    CHECK_EQ_INT(lk_part_segment("k", big, 100, sa, sizeof sa, err, sizeof err), -1);
    CHECK(strstr(err, "too long") != NULL);
}

/* A landing that fails part-way leaves nothing: no stored object, no temp
 * file, no table (CREATE TABLE AS creates it in the same transaction). */
TEST(lake_land_failure_leaves_nothing)
{
    char base[512], lake[600], cat[600], err[512], tmp[2][4400];
    snprintf(base, sizeof base, "%s/lake_land", t_tmpdir());
    snprintf(lake, sizeof lake, "%s/lake", base);
    snprintf(cat, sizeof cat, "%s/catalog.db", base);
    CHECK(ut_mkdir_p(base, err, sizeof err) == 0);
    st_store *st = st_local_create(lake, err, sizeof err);
    ct_catalog *c = ct_open(cat, err, sizeof err);
    CHECK_MSG(st && c, "%s", err);
    pq_column_spec spec = {"x", PQ_INT64, 1};
    lk_land_file lf[2];
    for (int i = 0; i < 2; i++) {
        lk_tmp_path(base, "t2_x", tmp[i], sizeof tmp[i]);
        pq_writer *w = pq_writer_create(tmp[i], &spec, 1, NULL, err, sizeof err);
        CHECK_MSG(w, "%s", err);
        for (int r = 0; r < 3 + i; r++) {
            pq_writer_put_i64(w, 0, r * 10 + i);
            pq_writer_end_row(w);
        }
        /* the same name twice: the second store must fail */
        lf[i] = (lk_land_file){.w = w, .tmp = tmp[i], .partition = "k=a%2Fb", .name = "part-1.parquet",
                               .min_offset = -1, .max_offset = -1, .schema_version = 1};
    }
    ct_column col = {.name = "x", .type = CT_INT64};
    ct_new_table nt = {.name = "t2_x", .location = lake, .partition = "k", .cols = &col, .ncols = 1};
    ct_table_change t = {.create = &nt};
    lk_landing l = {.cat = c, .store = st, .tables = {"t2_x"}, .change = {.tables = &t, .ntables = 1}};
    CHECK_EQ_INT(lk_land(&l, lf, 2, err, sizeof err), -1);
    CHECK(strstr(err, "already exists") != NULL);
    ct_table tb;
    CHECK_EQ_INT(ct_table_get(c, "t2_x", &tb, err, sizeof err), 0);
    char dir[700];
    snprintf(dir, sizeof dir, "%s/t2_x", lake);
    CHECK(count_files(dir) <= 0);
    CHECK(access(tmp[0], F_OK) != 0 && access(tmp[1], F_OK) != 0);
    /* one file lands: statistics come from the writer, the size is the file's */
    lk_tmp_path(base, "t2_x", tmp[0], sizeof tmp[0]);
    pq_writer_destroy(lf[0].w);
    pq_writer_destroy(lf[1].w);
    lf[0].w = pq_writer_create(tmp[0], &spec, 1, NULL, err, sizeof err);
    pq_writer_put_i64(lf[0].w, 0, -5);
    pq_writer_end_row(lf[0].w);
    pq_writer_put_null(lf[0].w, 0);
    pq_writer_end_row(lf[0].w);
    pq_writer_put_i64(lf[0].w, 0, 42);
    pq_writer_end_row(lf[0].w);
    CHECK_MSG(lk_land(&l, lf, 1, err, sizeof err) == 0, "%s", err);
    pq_writer_destroy(lf[0].w);
    CHECK(t.table_id > 0);
    ct_file *files = NULL;
    int nf = ct_files(c, t.table_id, NULL, &files, err, sizeof err);
    CHECK_EQ_INT(nf, 1);
    if (nf == 1) {
        char p[1800];
        struct stat sb;
        snprintf(p, sizeof p, "%s/t2_x/%s", lake, files[0].path);
        CHECK_EQ_STR(files[0].path, "k=a%2Fb/part-1.parquet");
        CHECK(stat(p, &sb) == 0 && sb.st_size == files[0].bytes);
        CHECK_EQ_INT(files[0].rows, 3);
        CHECK_EQ_INT(files[0].nstats, 1);
        CHECK(files[0].nstats == 1 && files[0].stats[0].has_minmax);
        if (files[0].nstats == 1) {
            CHECK_EQ_STR(files[0].stats[0].min, "-5");
            CHECK_EQ_STR(files[0].stats[0].max, "42");
            CHECK_EQ_INT(files[0].stats[0].nulls, 1);
        }
    }
    ct_files_free(files, nf);
    ct_close(c);
    st_destroy(st);
}

/* Temp files of a writer killed mid-write (its pid is gone) are collected;
 * a live writer's are not. */
TEST(lake_tmp_gc_collects_dead_writers)
{
    char dir[600], p[700], mine[4400], err[256];
    snprintf(dir, sizeof dir, "%s/lake_tmpgc", t_tmpdir());
    CHECK(ut_mkdir_p(dir, err, sizeof err) == 0);
    pid_t child = fork();
    if (child == 0) _exit(0);
    int status;
    waitpid(child, &status, 0);
    snprintf(p, sizeof p, "%s/sl-%ld-0-t2_x.parquet", dir, (long)child);
    FILE *f = fopen(p, "w");
    CHECK(f);
    if (f) fclose(f);
    lk_tmp_path(dir, "t2_x", mine, sizeof mine);
    f = fopen(mine, "w");
    CHECK(f);
    if (f) fclose(f);
    CHECK_EQ_INT(lk_tmp_gc(dir), 1);
    CHECK(access(p, F_OK) != 0);
    CHECK(access(mine, F_OK) == 0);
}

/* Objects a CREATE TABLE AS stored before being killed (never committed) are
 * deleted by the next statement on the table; a live writer's, a committed
 * file, other names and a gone pid's object stamped a minute ago (a living
 * writer on another machine, before its commit) are kept. */
TEST(lake_orphan_gc_collects_dead_writers_objects)
{
    char base[512], lake[600], cat[600], err[512], p[1000];
    snprintf(base, sizeof base, "%s/lake_orphans", t_tmpdir());
    snprintf(lake, sizeof lake, "%s/lake", base);
    snprintf(cat, sizeof cat, "%s/catalog.db", base);
    CHECK(ut_mkdir_p(base, err, sizeof err) == 0);
    st_store *st = st_local_create(lake, err, sizeof err);
    ct_catalog *c = ct_open(cat, err, sizeof err);
    CHECK_MSG(st && c, "%s", err);
    pid_t child = fork();
    if (child == 0) _exit(0);
    int status;
    waitpid(child, &status, 0);
    char dead[200], live[200], committed[200];
    snprintf(dead, sizeof dead, "t3/k=a/part-q1700000000000000-%ld-0000.parquet", (long)child);
    snprintf(live, sizeof live, "t3/k=a/part-q1700000000000000-%ld-0001.parquet", (long)getpid());
    snprintf(committed, sizeof committed, "t3/k=b/part-q1700000000000000-%ld-0002.parquet", (long)child);
    /* a pid gone here, stamped just now: maybe a living writer on another
     * machine between its store and its commit */
    char fresh[200];
    struct timespec now;
    clock_gettime(CLOCK_REALTIME, &now);
    snprintf(fresh, sizeof fresh, "t3/k=a/part-q%lld-%ld-0003.parquet",
             (long long)now.tv_sec * 1000000 - 60 * 1000000LL, (long)child);
    const char *keys[] = {dead, live, committed, "t3/k=a/other.parquet", fresh};
    for (int i = 0; i < 5; i++) CHECK(st_put(st, keys[i], "x", 1, err, sizeof err) == 0);
    /* the table does not exist yet: nothing is known, the dead writer's objects go */
    CHECK_EQ_INT(lk_orphan_gc(c, st, "t3", 0, err, sizeof err), 2);
    snprintf(p, sizeof p, "%s/%s", lake, fresh);
    CHECK(access(p, F_OK) == 0);
    snprintf(p, sizeof p, "%s/%s", lake, dead);
    CHECK(access(p, F_OK) != 0);
    snprintf(p, sizeof p, "%s/%s", lake, live);
    CHECK(access(p, F_OK) == 0);
    CHECK(st_put(st, dead, "x", 1, err, sizeof err) == 0);
    CHECK(st_put(st, committed, "x", 1, err, sizeof err) == 0);
    /* a committed file of the table is kept even though its writer is gone */
    ct_table t;
    CHECK(ct_table_ensure(c, "t3", lake, "k", NULL, &t, err, sizeof err) == 1);
    ct_file f;
    memset(&f, 0, sizeof f);
    snprintf(f.partition, sizeof f.partition, "k=b");
    snprintf(f.path, sizeof f.path, "%s", committed + 3);
    f.rows = 1;
    f.bytes = 1;
    f.min_offset = f.max_offset = -1;
    CHECK_MSG(ct_commit(c, t.id, &f, 1, NULL, 0, err, sizeof err) == 0, "%s", err);
    CHECK_EQ_INT(lk_orphan_gc(c, st, "t3", t.id, err, sizeof err), 1);
    for (int i = 1; i < 5; i++) {
        snprintf(p, sizeof p, "%s/%s", lake, keys[i]);
        CHECK(access(p, F_OK) == 0);
    }
    ct_table_free(&t);
    ct_close(c);
    st_destroy(st);
}

/* Statistics come from the writer and agree with the file over several row
 * groups (the catalog row the reader prunes with). */
TEST(lake_land_stats_from_writer_span_row_groups)
{
    char base[512], lake[600], cat[600], err[512], tmp[4400];
    snprintf(base, sizeof base, "%s/lake_stats", t_tmpdir());
    snprintf(lake, sizeof lake, "%s/lake", base);
    snprintf(cat, sizeof cat, "%s/catalog.db", base);
    CHECK(ut_mkdir_p(base, err, sizeof err) == 0);
    st_store *st = st_local_create(lake, err, sizeof err);
    ct_catalog *c = ct_open(cat, err, sizeof err);
    CHECK_MSG(st && c, "%s", err);
    pq_column_spec spec[4] = {{"i", PQ_INT64, 1}, {"d", PQ_DOUBLE, 1}, {"s", PQ_STRING, 1},
                              {"ts", PQ_TIMESTAMP, 1}};
    pq_writer_opts wo;
    pq_writer_opts_init(&wo);
    wo.row_group_rows = 2;
    lk_tmp_path(base, "t4", tmp, sizeof tmp);
    pq_writer *w = pq_writer_create(tmp, spec, 4, &wo, err, sizeof err);
    CHECK_MSG(w, "%s", err);
    const int64_t iv[5] = {5, -3, 0, 7, 2};
    const double dv[5] = {1.5, -0.25, 0, 9, 3};
    const char *sv[5] = {"b", "a", NULL, "zz", "c"};
    for (int r = 0; r < 5; r++) {
        if (r == 2) pq_writer_put_null(w, 0);
        else pq_writer_put_i64(w, 0, iv[r]);
        pq_writer_put_double(w, 1, dv[r]);
        if (sv[r]) pq_writer_put_bytes(w, 2, sv[r], strlen(sv[r]));
        else pq_writer_put_null(w, 2);
        pq_writer_put_null(w, 3); /* only nulls: no min/max */
        CHECK(pq_writer_end_row(w) == 0);
    }
    ct_column cols[4] = {{.name = "i", .type = CT_INT64}, {.name = "d", .type = CT_DOUBLE},
                         {.name = "s", .type = CT_STRING}, {.name = "ts", .type = CT_TIMESTAMP}};
    ct_new_table nt = {.name = "t4", .location = lake, .partition = "", .cols = cols, .ncols = 4};
    ct_table_change t = {.create = &nt};
    lk_landing l = {.cat = c, .store = st, .tables = {"t4"}, .change = {.tables = &t, .ntables = 1}};
    lk_land_file lf = {.w = w, .tmp = tmp, .partition = "", .name = "part-1.parquet",
                       .min_offset = -1, .max_offset = -1, .schema_version = 1};
    CHECK_MSG(lk_land(&l, &lf, 1, err, sizeof err) == 0, "%s", err);
    pq_writer_destroy(w);
    ct_file *files = NULL;
    int nf = ct_files(c, t.table_id, NULL, &files, err, sizeof err);
    CHECK_EQ_INT(nf, 1);
    if (nf == 1) {
        ct_colstat *s = files[0].stats;
        CHECK_EQ_INT(files[0].nstats, 4);
        CHECK_EQ_INT(files[0].rows, 5);
        CHECK(s[0].has_minmax && !strcmp(s[0].min, "-3") && !strcmp(s[0].max, "7"));
        CHECK_EQ_INT(s[0].nulls, 1);
        CHECK(s[1].has_minmax && !strcmp(s[1].min, "-0.25") && !strcmp(s[1].max, "9"));
        CHECK(s[2].has_minmax && !strcmp(s[2].min, "a") && !strcmp(s[2].max, "zz"));
        CHECK_EQ_INT(s[2].nulls, 1);
        CHECK(!s[3].has_minmax);
        CHECK_EQ_INT(s[3].nulls, 5);
        char p[1200];
        snprintf(p, sizeof p, "%s/t4/part-1.parquet", lake);
        CHECK_EQ_INT(file_rows(p), 5);
        pq_reader *r = pq_reader_open(p, err, sizeof err);
        CHECK_MSG(r, "%s", err);
        CHECK(r && pq_reader_num_row_groups(r) == 3);
        pq_reader_destroy(r);
    }
    ct_files_free(files, nf);
    ct_close(c);
    st_destroy(st);
}

TEST(lake_sink_stop_in_two_steps)
{
    tsink T;
    char err[512];
    CHECK_MSG(tsink_init(&T, "lake_stop", "ev", err, sizeof err) == 0, "%s", err);
    jr_stream *js = T.js;
    lk_sink *s = lk_sink_create(&T.o, err, sizeof err);
    CHECK_MSG(s, "%s", err);
    CHECK_EQ_INT(lk_sink_stop_wait(s, 0), 0); /* not started: nothing to wait for */
    CHECK(lk_sink_start(s, err, sizeof err) == 0);
    uint64_t first;
    for (int i = 0; i < 50; i++) {
        char rec[64];
        int n = snprintf(rec, sizeof rec, "{\"id\":%d}", i);
        jr_iov v = {rec, (size_t)n};
        CHECK(jr_append(js, &v, 1, 1714521600000000LL, &first, err, sizeof err) == 0);
    }
    /* roll_age is 60 s: only the stop lands them */
    lk_sink_stop_begin(s);
    lk_sink_stop_begin(s); /* twice is fine */
    CHECK_EQ_INT(lk_sink_stop_wait(s, -1), 0);
    lk_sink_stats k;
    lk_sink_get_stats(s, &k);
    CHECK_EQ_INT(k.position, 50);
    CHECK_EQ_INT(lk_sink_stop_wait(s, 0), 0); /* already ended */
    lk_sink_destroy(s);
    lk_sink_stop_begin(NULL);
    CHECK_EQ_INT(lk_sink_stop_wait(NULL, 0), 0);
    tsink_free(&T);
}

/* Issue: after journal recovery lost records, the sink's position stayed past
 * the stream's end: new records got offsets below it, never landed, and lag
 * showed 0.  Now the stream hands out offsets from the position on; a sink
 * that cannot have that (read-only stream) stops with an error. */
TEST(lake_sink_position_past_stream_end)
{
    tsink T;
    char err[512], cmd[800];
    CHECK_MSG(tsink_init(&T, "lakepe", "pe", err, sizeof err) == 0, "%s", err);
    jr_stream_close(T.js); /* each round opens the stream itself */
    T.js = NULL;
    const char *sdir = T.sdir;
    lk_sink_opts o = T.o;
    for (int round = 0; round < 2; round++) {
        jr_stream *js = jr_stream_open(sdir, "pe", NULL, err, sizeof err);
        CHECK_MSG(js, "%s", err);
        jr_info in;
        jr_stream_info(js, &in);
        o.stream = js;
        lk_sink *s = lk_sink_create(&o, err, sizeof err);
        CHECK_MSG(s, "%s", err);
        jr_stream_info(js, &in);
        CHECK_EQ_INT(in.next_offset, (uint64_t)round * 50); /* reserved from the position */
        for (int i = 0; i < 50; i++) {
            char rec[64];
            int n = snprintf(rec, sizeof rec, "{\"id\":%d}", i);
            jr_iov v = {rec, (size_t)n};
            uint64_t first;
            CHECK(jr_append(js, &v, 1, 0, &first, err, sizeof err) == 0);
            CHECK_EQ_INT(first, (uint64_t)(round * 50 + i));
        }
        CHECK_MSG(lk_sink_step(s, 1, err, sizeof err) == 50, "%s", err);
        lk_sink_stats k;
        lk_sink_get_stats(s, &k);
        CHECK_EQ_INT(k.position, (uint64_t)(round + 1) * 50);
        CHECK(!k.past_end);
        lk_sink_destroy(s);
        jr_stream_close(js);
        snprintf(cmd, sizeof cmd, "rm -rf %s/pe", sdir); /* the journal loses everything */
        CHECK(system(cmd) == 0);
    }
    /* a read-only stream cannot skip offsets: the sink stops, loudly */
    jr_stream *w = jr_stream_open(sdir, "pe", NULL, err, sizeof err);
    CHECK_MSG(w, "%s", err);
    jr_opts ro;
    jr_opts_init(&ro);
    ro.read_only = 1;
    jr_stream *js = jr_stream_open(sdir, "pe", &ro, err, sizeof err);
    CHECK_MSG(js, "%s", err);
    o.stream = js;
    lk_sink *s = lk_sink_create(&o, err, sizeof err);
    CHECK_MSG(s, "%s", err);
    CHECK_EQ_INT(lk_sink_step(s, 1, err, sizeof err), -1);
    CHECK(strstr(err, "past the end of stream pe"));
    lk_sink_stats k;
    lk_sink_get_stats(s, &k);
    CHECK(k.past_end);
    CHECK_EQ_INT(k.stream_end, 0);
    lk_sink_destroy(s);
    jr_stream_close(js);
    jr_stream_close(w);
    tsink_free(&T);
}

/* ---- the column-naming rule (colname.c, docs/lake.md "Column names") ---------------- */

TEST(lake_colname_base)
{
    char out[LK_NAME_MAX + 1];
    CHECK_EQ_INT(lk_colname_base("", 0, out), 6);
    CHECK_EQ_STR(out, "_empty");
    lk_colname_base("a\x01" "b", 3, out);
    CHECK_EQ_STR(out, "a\\x01b");
    lk_colname_base("n\0ul", 4, out);
    CHECK_EQ_STR(out, "n\\x00ul");
    lk_colname_base("c1\xc2\x85|\x7f", 6, out); /* C1 control (U+0085), DEL */
    CHECK_EQ_STR(out, "c1\\xc2\\x85|\\x7f");
    lk_colname_base("caf\xc3\xa9 \"x\".y", 11, out); /* printable UTF-8, quotes, dots stay */
    CHECK_EQ_STR(out, "caf\xc3\xa9 \"x\".y");
    static char longk[10001], longk2[10001];
    memset(longk, 'k', 10000);
    memcpy(longk2, longk, 10000);
    longk2[9999] = 'j';
    char out2[LK_NAME_MAX + 1];
    CHECK_EQ_INT(lk_colname_base(longk, 10000, out), LK_NAME_BASE);
    CHECK_EQ_INT(lk_colname_base(longk2, 10000, out2), LK_NAME_BASE);
    CHECK(!strncmp(out, longk, LK_NAME_BASE - 9) && out[LK_NAME_BASE - 9] == '_');
    CHECK(strcmp(out, out2)); /* the hash tells long keys apart */
    lk_colname_base(longk, 10000, out2);
    CHECK_EQ_STR(out, out2); /* deterministic */
    CHECK_EQ_INT(lk_colname_base(longk, LK_NAME_BASE, out), LK_NAME_BASE); /* at the limit: kept */
    CHECK(!strchr(out, '_'));
    char ctl[300];
    memset(ctl, 1, sizeof ctl); /* escapes that do not fit are cut whole */
    size_t n = lk_colname_base(ctl, sizeof ctl, out);
    CHECK(n <= LK_NAME_BASE && !strncmp(out + n - 13, "\\x01_", 5));
}

TEST(lake_colname_resolve)
{
    char out[LK_NAME_MAX + 1];
    size_t n;
    lk_names *m = lk_names_create(0);
    CHECK_EQ_INT(lk_names_take(m, "_ingest_ts", 10, -1), 0);
    CHECK_EQ_INT(lk_names_take(m, "dt", 2, -1), 0);
    CHECK_EQ_INT(lk_names_take(m, "hr", 2, -1), 0);
    CHECK_EQ_INT(lk_names_resolve(m, "Name", 4, out, &n), -1);
    CHECK_EQ_STR(out, "Name");
    CHECK_EQ_INT(lk_names_take(m, out, n, 0), 0);
    CHECK_EQ_INT(lk_names_resolve(m, "Name", 4, out, &n), 0);
    CHECK_EQ_INT(lk_names_resolve(m, "name", 4, out, &n), -1); /* equal up to case: suffix */
    CHECK_EQ_STR(out, "name_2");
    CHECK_EQ_INT(lk_names_take(m, out, n, 1), 0);
    CHECK_EQ_INT(lk_names_resolve(m, "name", 4, out, &n), 1);  /* and it stays there */
    CHECK_EQ_INT(lk_names_resolve(m, "NAME", 4, out, &n), -1);
    CHECK_EQ_STR(out, "NAME_3");
    CHECK_EQ_INT(lk_names_resolve(m, "name_2", 6, out, &n), 1); /* the column's own name */
    CHECK_EQ_INT(lk_names_resolve(m, "DT", 2, out, &n), -1);    /* reserved, any case */
    CHECK_EQ_STR(out, "DT_2");
    CHECK_EQ_INT(lk_names_resolve(m, "dt", 2, out, &n), -1);
    CHECK_EQ_STR(out, "dt_2");
    CHECK_EQ_INT(lk_names_resolve(m, "_INGEST_TS", 10, out, &n), -1);
    CHECK_EQ_STR(out, "_INGEST_TS_2");
    CHECK_EQ_INT(lk_names_take(m, "nAmE", 4, 7), -1); /* names are unique up to case */
    CHECK_EQ_INT(lk_names_find(m, "name_2", 6), 1);
    CHECK_EQ_INT(lk_names_find(m, "NAME_2", 6), -1);
    CHECK_EQ_INT(lk_names_find(m, "dt", 2), -1);
    int k = lk_names_count(m);
    lk_names_take(m, "x", 1, 2);
    lk_names_truncate(m, k);
    CHECK_EQ_INT(lk_names_resolve(m, "x", 1, out, &n), -1);
    lk_names_destroy(m);

    m = lk_names_create(1); /* case-insensitive sink: case variants share a column */
    lk_names_take(m, "hr", 2, -1);
    lk_names_take(m, "Cost", 4, 0);
    CHECK_EQ_INT(lk_names_resolve(m, "COST", 4, out, &n), 0);
    CHECK_EQ_INT(lk_names_resolve(m, "HR", 2, out, &n), -1);
    CHECK_EQ_STR(out, "HR_2");
    CHECK_EQ_INT(lk_names_find(m, "cOST", 4), 0);
    lk_names_destroy(m);
}

TEST(lake_errors_names_fit)
{
    char s[LK_ERRORS_STREAM_MAX + 1], s2[LK_ERRORS_STREAM_MAX + 1], t[LK_TABLE_NAME_MAX + 1];
    lk_errors_stream_name("ev", s);
    CHECK_EQ_STR(s, "ev.errors");
    char a[65], b[65];
    memset(a, 'a', 64);
    a[64] = 0;
    memcpy(b, a, 65);
    b[63] = 'b';
    lk_errors_stream_name(a, s);
    lk_errors_stream_name(b, s2);
    CHECK(strlen(s) == 71 && !strncmp(s, a, 64) && !strcmp(s + 64, ".errors"));
    CHECK(strcmp(s, s2));
    CHECK(ut_name_ok(UT_NAME_JOURNAL, s) && !ut_name_ok(UT_NAME_STREAM, s));
    /* a 64-character stream's errors journal is not the errors journal of any
     * other valid stream (a shortened, hashed form once was: two writers
     * shared one journal and corrupted it) */
    char c[65];
    memcpy(c, a, 48);
    snprintf(c + 48, sizeof c - 48, "-%08x", (unsigned)(XXH3_64bits(a, 64) & 0xffffffffu));
    char s3[LK_ERRORS_STREAM_MAX + 1];
    lk_errors_stream_name(c, s3);
    CHECK(strcmp(s, s3) && !strcmp(s3 + strlen(c), ".errors"));
    lk_errors_table_name("t1_ev", t);
    CHECK_EQ_STR(t, "t1_ev_errors");
    char lt[128];
    memset(lt, 't', 127);
    lt[127] = 0;
    lk_errors_table_name(lt, t);
    CHECK(strlen(t) == LK_TABLE_NAME_MAX && !strcmp(t + strlen(t) - 7, "_errors"));
}

/* The table's column names joined by ','. */
static void table_cols(const char *cat, const char *table, char *out, size_t n)
{
    char err[256];
    out[0] = 0;
    ct_catalog *c = ct_open(cat, err, sizeof err);
    ct_table t;
    if (c && ct_table_get(c, table, &t, err, sizeof err) == 1) {
        size_t o = 0;
        for (int i = 0; i < t.ncols && o < n; i++)
            o += (size_t)snprintf(out + o, n - o, "%s%s", i ? "," : "", t.cols[i].name);
        ct_table_free(&t);
    }
    ct_close(c);
}

TEST(lake_sink_adversarial_keys)
{
    char err[512], cols[2048];
    tsink T;
    CHECK_MSG(tsink_init(&T, "adv", "ev", err, sizeof err) == 0, "%s", err);
    tsink_put(&T, "{\"Name\":1,\"name\":2}");
    tsink_put(&T, "{\"DT\":1,\"hr\":2}");
    tsink_put(&T, "{\"_INGEST_TS\":1,\"_ingest_ts\":2}");
    tsink_put(&T, "{\"\":1,\"a\\u0001\":2}");
    tsink_put(&T, "{\"name_2\":5,\"name\":6}"); /* two keys, one column: rejected */
    tsink_put(&T, "{\"k\":1,\"k\":2}");         /* a repeated key: the first value */
    lk_sink *s = lk_sink_create(&T.o, err, sizeof err);
    CHECK_MSG(s, "%s", err);
    CHECK_EQ_INT(lk_sink_step(s, 1, err, sizeof err), 6);
    lk_sink_stats k;
    lk_sink_get_stats(s, &k);
    CHECK_EQ_INT(k.records_landed, 5);
    CHECK_EQ_INT(k.records_errored, 1);
    lk_sink_destroy(s);
    table_cols(T.cat, "t1_ev", cols, sizeof cols);
    CHECK_EQ_STR(cols, "Name,name_2,DT_2,hr_2,_INGEST_TS_2,_ingest_ts_3,_empty,a\\x01,k");
    table_cols(T.cat, "t1_ev_errors", cols, sizeof cols); /* declared before any error */
    CHECK_EQ_STR(cols, "_offset,reason,record");
    /* after a restart a key finds its column again: no new column */
    tsink_put(&T, "{\"name\":7,\"DT\":8}");
    s = lk_sink_create(&T.o, err, sizeof err);
    CHECK_MSG(s, "%s", err);
    CHECK_EQ_INT(lk_sink_step(s, 1, err, sizeof err), 1);
    lk_sink_get_stats(s, &k);
    CHECK_EQ_INT(k.records_landed, 1);
    lk_sink_destroy(s);
    table_cols(T.cat, "t1_ev", cols, sizeof cols);
    CHECK_EQ_STR(cols, "Name,name_2,DT_2,hr_2,_INGEST_TS_2,_ingest_ts_3,_empty,a\\x01,k");
    tsink_free(&T);
}

/* Issue: a partition writer that could not create its temp file left the
 * buffer's temp path and column map allocated, and every retry leaked them
 * again (LeakSanitizer at exit).  The sink retries and lands once it can. */
TEST(lake_sink_temp_file_failure_retries_cleanly)
{
    char err[512];
    tsink T;
    CHECK_MSG(tsink_init(&T, "tmpfail", "ev", err, sizeof err) == 0, "%s", err);
    tsink_put(&T, "{\"a\":1}");
    tsink_put(&T, "{\"a\":2}");
    lk_sink *s = lk_sink_create(&T.o, err, sizeof err);
    CHECK_MSG(s, "%s", err);
    CHECK(rmdir(T.tmp) == 0); /* the temp dir becomes a file: no temp file can be made */
    FILE *f = fopen(T.tmp, "w");
    CHECK(f != NULL);
    fclose(f);
    for (int i = 0; i < 3; i++) {
        CHECK_EQ_INT(lk_sink_step(s, 1, err, sizeof err), -1);
        CHECK_MSG(strstr(err, "cannot create"), "%s", err);
    }
    CHECK(unlink(T.tmp) == 0 && mkdir(T.tmp, 0755) == 0);
    CHECK_MSG(lk_sink_step(s, 1, err, sizeof err) == 2, "%s", err);
    lk_sink_stats k;
    lk_sink_get_stats(s, &k);
    CHECK_EQ_INT(k.records_landed, 2);
    CHECK_EQ_INT(k.position, 2);
    lk_sink_destroy(s);
    tsink_free(&T);
}

TEST(lake_sink_cap_rejects_without_adding_columns)
{
    char err[512], cols[512];
    tsink T;
    CHECK_MSG(tsink_init(&T, "cap", "ev", err, sizeof err) == 0, "%s", err);
    T.o.max_columns = 3;
    tsink_put(&T, "{\"a\":1}");
    tsink_put(&T, "{\"b\":1,\"c\":2,\"d\":3}"); /* would be 4 columns */
    tsink_put(&T, "{\"b\":1,\"a\":\"wider\"}"); /* still fits */
    lk_sink *s = lk_sink_create(&T.o, err, sizeof err);
    CHECK_MSG(s, "%s", err);
    CHECK_EQ_INT(lk_sink_step(s, 1, err, sizeof err), 3);
    lk_sink_stats k;
    lk_sink_get_stats(s, &k);
    CHECK_EQ_INT(k.records_errored, 1);
    CHECK_EQ_INT(k.records_landed, 2);
    lk_sink_destroy(s);
    table_cols(T.cat, "t1_ev", cols, sizeof cols);
    CHECK_EQ_STR(cols, "a,b");
    tsink_free(&T);
}

TEST(lake_colname_suffixes_run_out)
{
    char out[LK_NAME_MAX + 1], nm[32];
    size_t n;
    lk_names *m = lk_names_create(0);
    lk_names_take(m, "a", 1, 0);
    for (int k = 2; k <= LK_NAME_TRIES + 1; k++) {
        snprintf(nm, sizeof nm, "a_%d", k);
        lk_names_take(m, nm, strlen(nm), k);
    }
    CHECK_EQ_INT(lk_names_resolve(m, "A", 1, out, &n), -1); /* a, a_2 .. a_101 taken */
    CHECK_EQ_INT(n, 0);
    CHECK_EQ_STR(out, "");
    CHECK_EQ_INT(lk_names_resolve(m, "a_101", 5, out, &n), LK_NAME_TRIES + 1);
    lk_names_truncate(m, LK_NAME_TRIES); /* a .. a_100 */
    CHECK_EQ_INT(lk_names_resolve(m, "A", 1, out, &n), -1);
    CHECK_EQ_STR(out, "A_101");
    lk_names_destroy(m);
}

typedef struct coltypes {
    char seen[512];
} coltypes;

static void note_coltype(void *arg, const char *column, ct_type type, int version)
{
    coltypes *x = arg;
    size_t o = strlen(x->seen);
    snprintf(x->seen + o, sizeof x->seen - o, "%s%s:%s@%d", o ? "," : "", column, ct_type_name(type), version);
}

TEST(lake_catalog_column_types_before_a_widening)
{
    char err[512], cat[600];
    snprintf(cat, sizeof cat, "%s/coltypes.db", t_tmpdir());
    ct_catalog *c = ct_open(cat, err, sizeof err);
    CHECK_MSG(c, "%s", err);
    ct_table t;
    CHECK(ct_table_ensure(c, "t", "/x/t", "", "", &t, err, sizeof err) == 1);
    ct_column v1[] = {{"a", CT_INT64, 0}}, v2[] = {{"a", CT_INT64, 0}, {"b", CT_TIMESTAMP, 0}},
              v3[] = {{"a", CT_DOUBLE, 0}, {"b", CT_TIMESTAMP, 0}},
              v4[] = {{"a", CT_DOUBLE, 0}, {"b", CT_STRING, 0}, {"c", CT_BOOL, 0}};
    int v;
    CHECK(ct_schema_set(c, t.id, v1, 1, "", &v, err, sizeof err) == 0);
    CHECK(ct_schema_set(c, t.id, v2, 2, "", &v, err, sizeof err) == 0); /* appended: not read */
    CHECK(ct_schema_set(c, t.id, v3, 2, "", &v, err, sizeof err) == 0); /* a widened after v2 */
    CHECK(ct_schema_set(c, t.id, v4, 3, "", &v, err, sizeof err) == 0); /* b widened after v3 */
    coltypes x = {""};
    CHECK_MSG(ct_column_types(c, t.id, note_coltype, &x, err, sizeof err) == 0, "%s", err);
    CHECK_EQ_STR(x.seen, "a:int64@2,b:timestamp@2,a:double@3,b:timestamp@3");
    ct_table_free(&t);
    ct_close(c);
}

/* An object the store already holds at the name the next flush uses (left by
 * a landing whose commit and cleanup both failed) must not block the sink
 * until a restart: a failed step collects what the catalog does not know,
 * and the retry lands. */
TEST(lake_sink_retry_collects_a_stray_object)
{
    tsink t;
    char err[512];
    CHECK_MSG(tsink_init(&t, "stray", "ev", err, sizeof err) == 0, "%s", err);
    t.o.roll_rows = 3;
    lk_sink *s = lk_sink_create(&t.o, err, sizeof err);
    CHECK_MSG(s, "%s", err);
    const char *key = "t1_ev/dt=2024-05-01/hr=00/part-00000000000000000000-0000.parquet";
    CHECK_MSG(st_put(t.st, key, "stale", 5, err, sizeof err) == 0, "%s", err);
    for (int i = 0; i < 3; i++) tsink_put(&t, "{\"id\":1}");
    CHECK(lk_sink_start(s, err, sizeof err) == 0);
    lk_sink_stats k = {0};
    for (int i = 0; i < 100; i++) { /* first try fails, the retry follows in 100 ms */
        lk_sink_get_stats(s, &k);
        if (k.position == 3) break;
        usleep(50 * 1000);
    }
    CHECK_EQ_INT(k.position, 3);
    lk_sink_stop_begin(s);
    CHECK_EQ_INT(lk_sink_stop_wait(s, -1), 0);
    lk_sink_destroy(s);
    char path[900];
    snprintf(path, sizeof path, "%s/%s", t.lake, key);
    CHECK_EQ_INT(file_rows(path), 3);
    tsink_free(&t);
}

/* ---- the trash: replaced files leave the table's directory ------------------- */

typedef struct trash_scan {
    lk_sink *s;
    int64_t rows;
    int maintained;
    char err[512];
} trash_scan;

/* At the scan's first row (its file list is read, one file open), compact. */
static int trash_row(void *ctx, sqlite3_stmt *st)
{
    trash_scan *x = ctx;
    (void)st;
    if (!x->maintained++ && lk_sink_maintain(x->s, x->err, sizeof x->err)) return 1;
    x->rows++;
    return 0;
}

/* Engines that list the table's directory (DuckDB globs, Hive tables) must
 * never see a replaced file beside its replacement (rows counted twice); a
 * sluice scan that listed the files before the compaction still reads them
 * (from the trash); after the grace period they are gone from the trash too;
 * a crash between the commit and the move is repaired by the next start. */
TEST(lake_compaction_moves_replaced_files_to_trash)
{
    tsink T;
    char err[512];
    CHECK_MSG(tsink_init(&T, "laketrash", "tr", err, sizeof err) == 0, "%s", err);
    jr_stream *js = T.js;
    st_store *st = T.st;
    const char *lake = T.lake, *cat = T.cat, *tmp = T.tmp;
    lk_sink_opts o = T.o;
    lk_sink *s = lk_sink_create(&o, err, sizeof err);
    CHECK_MSG(s, "%s", err);
    /* 4 flushes of 2 partitions: 8 small files */
    char rec[200];
    uint64_t first;
    for (int f = 0; f < 4; f++) {
        for (int i = 0; i < 50; i++) {
            int n = snprintf(rec, sizeof rec,
                             "{\"id\":%d,\"event_time\":\"2024-05-01T0%d:00:00Z\"}", f * 50 + i,
                             i % 2);
            jr_iov v = {rec, (size_t)n};
            CHECK(jr_append(js, &v, 1, 0, &first, err, sizeof err) == 0);
        }
        CHECK_EQ_INT(lk_sink_step(s, 1, err, sizeof err), 50);
    }
    char tdir[700], trdir[700];
    snprintf(tdir, sizeof tdir, "%s/t1_tr", lake);
    snprintf(trdir, sizeof trdir, "%s/.trash/t1_tr", lake);
    CHECK_EQ_INT(count_files(tdir), 8);

    /* a scan lists the 8 files, reads the first; compaction replaces them all */
    s->o.compact_min_files = 2;
    sq_opts so = {0};
    so.catalog_path = cat;
    so.store = st;
    so.tmp_dir = tmp;
    so.no_tail = 1;
    sq_engine *e = sq_open(&so, err, sizeof err);
    CHECK_MSG(e, "%s", err);
    trash_scan x = {.s = s};
    sq_sink out = {.ctx = &x, .row = trash_row};
    int64_t got = e ? sq_query(e, "SELECT id FROM t1_tr", &out, err, sizeof err) : -1;
    CHECK_MSG(got == 200, "%lld rows: %s %s", (long long)got, err, x.err);
    CHECK_EQ_INT(x.rows, 200);
    lk_sink_stats k;
    lk_sink_get_stats(s, &k);
    CHECK_EQ_INT(k.files_compacted, 8);
    /* the directory holds each row once: only the 2 merged files */
    CHECK_EQ_INT(count_files(tdir), 2);
    CHECK_EQ_INT(count_files(trdir), 8);
    /* a new scan reads the catalog: the merged files */
    got = e ? sq_query(e, "SELECT id FROM t1_tr", NULL, err, sizeof err) : -1;
    CHECK_MSG(got == 200, "%lld rows: %s", (long long)got, err);
    sq_close(e);

    /* a crash between the commit and the move: a trashed file back in place
     * is moved to the trash by the next start */
    ct_file *tr = NULL;
    ct_catalog *c = ct_open(cat, err, sizeof err);
    CHECK_MSG(c, "%s", err);
    int nt = c ? ct_trash(c, &tr, err, sizeof err) : -1;
    CHECK_EQ_INT(nt, 8);
    char from[2000], to[2000];
    snprintf(from, sizeof from, "%s/%s", trdir, nt > 0 ? tr[0].path : "");
    snprintf(to, sizeof to, "%s/%s", tdir, nt > 0 ? tr[0].path : "");
    CHECK(rename(from, to) == 0);
    ct_files_free(tr, nt > 0 ? nt : 0);
    ct_close(c);
    lk_sink_destroy(s);
    CHECK_EQ_INT(count_files(tdir), 3);
    s = lk_sink_create(&o, err, sizeof err);
    CHECK_MSG(s, "%s", err);
    CHECK_EQ_INT(count_files(tdir), 2);
    CHECK_EQ_INT(count_files(trdir), 8);
    lk_sink_destroy(s);

    /* after the grace period: gone from the trash too */
    o.trash_grace_ms = 0;
    s = lk_sink_create(&o, err, sizeof err);
    CHECK_MSG(s, "%s", err);
    CHECK_MSG(lk_sink_maintain(s, err, sizeof err) == 0, "%s", err);
    lk_sink_destroy(s);
    CHECK_EQ_INT(count_files(tdir), 2);
    CHECK_EQ_INT(count_files(trdir), 0);
    CHECK(access(trdir, F_OK) != 0); /* empty directories are removed */
    tsink_free(&T);
}

/* ---- scan pins: a scan longer than trash_grace still reads its files -------------- */

typedef struct pin_scan {
    lk_sink *s;
    int64_t rows;
    int maintained;
    char err[512];
} pin_scan;

/* At the scan's first row: compact, wait out the (tiny) grace, empty the trash. */
static int pin_row(void *ctx, sqlite3_stmt *st)
{
    pin_scan *x = ctx;
    (void)st;
    if (!x->maintained++) {
        if (lk_sink_maintain(x->s, x->err, sizeof x->err)) return 1;
        usleep(20 * 1000);
        if (lk_sink_maintain(x->s, x->err, sizeof x->err)) return 1;
    }
    x->rows++;
    return 0;
}

/* Issue: the trash kept replaced files only trash_grace after their removal;
 * a scan (e.g. `sluice sql` beside the server) running longer failed at the
 * first file it opened after their deletion.  A running scan pins them. */
TEST(lake_trash_pin_holds_files_for_a_long_scan)
{
    tsink t;
    char err[512];
    CHECK_MSG(tsink_init(&t, "pinscan", "ev", err, sizeof err) == 0, "%s", err);
    lk_sink *s = lk_sink_create(&t.o, err, sizeof err);
    CHECK_MSG(s, "%s", err);
    for (int f = 0; f < 4; f++) { /* 4 flushes of 2 partitions: 8 small files */
        for (int i = 0; i < 50; i++) {
            char rec[100];
            snprintf(rec, sizeof rec, "{\"id\":%d,\"event_time\":\"2024-05-01T0%d:00:00Z\"}",
                     f * 50 + i, i % 2);
            tsink_put(&t, rec);
        }
        CHECK_EQ_INT(lk_sink_step(s, 1, err, sizeof err), 50);
    }
    s->o.compact_min_files = 2;
    s->o.trash_grace_ms = 1;
    sq_opts so = {0};
    so.catalog_path = t.cat;
    so.store = t.st;
    so.tmp_dir = t.tmp;
    so.no_tail = 1;
    sq_engine *e = sq_open(&so, err, sizeof err);
    CHECK_MSG(e, "%s", err);
    pin_scan x = {.s = s};
    sq_sink out = {.ctx = &x, .row = pin_row};
    int64_t got = e ? sq_query(e, "SELECT id FROM t1_ev", &out, err, sizeof err) : -1;
    sq_close(e);
    CHECK_MSG(got == 200, "%lld rows: %s %s", (long long)got, err, x.err);
    char trdir[700];
    snprintf(trdir, sizeof trdir, "%s/.trash/t1_ev", t.lake);
    CHECK_EQ_INT(count_files(trdir), 8); /* held while the scan ran */
    /* the scan ended: its pin is gone, the grace is over, the files go */
    CHECK_MSG(lk_sink_maintain(s, err, sizeof err) == 0, "%s", err);
    CHECK_EQ_INT(count_files(trdir), 0);
    lk_sink_destroy(s);
    tsink_free(&t);
}

/* Entries of a directory not starting with '.' (-1: none such directory). */
static int count_entries(const char *dir)
{
    DIR *d = opendir(dir);
    if (!d) return -1;
    int n = 0;
    for (struct dirent *de; (de = readdir(d));) n += de->d_name[0] != '.';
    closedir(d);
    return n;
}

/* Pins are seen across processes while their process lives; a dead
 * process's pin (kill -9: never removed) is ignored and removed. */
TEST(lake_trash_pins_across_processes)
{
    char lake[600], pins[700], err[512];
    snprintf(lake, sizeof lake, "%s/pins/lake", t_tmpdir());
    snprintf(pins, sizeof pins, "%s/.trash/.pins", lake);
    st_store *st = st_local_create(lake, err, sizeof err);
    CHECK_MSG(st, "%s", err);
    int64_t oldest = 0;
    CHECK_EQ_INT(lk_pins_oldest(st, &oldest, err, sizeof err), 0);
    int up[2], down[2];
    CHECK(pipe(up) == 0 && pipe(down) == 0);
    int64_t before = lk__now_ms();
    pid_t child = fork();
    if (child == 0) { /* holds a pin, then dies without removing it */
        char e2[256], c = 0;
        lk_pin *p = lk_pin_create(st, e2, sizeof e2);
        if (write(up[1], p ? "y" : "n", 1) != 1 || read(down[0], &c, 1) != 1) _exit(2);
        _exit(0);
    }
    char c = 0;
    CHECK(read(up[0], &c, 1) == 1 && c == 'y');
    CHECK_EQ_INT(count_entries(pins), 1);
    CHECK_EQ_INT(lk_pins_oldest(st, &oldest, err, sizeof err), 1);
    CHECK(oldest >= before && oldest <= lk__now_ms());
    CHECK(write(down[1], "x", 1) == 1);
    int status;
    waitpid(child, &status, 0);
    CHECK_EQ_INT(count_entries(pins), 1); /* left behind */
    CHECK_EQ_INT(lk_pins_oldest(st, &oldest, err, sizeof err), 0);
    CHECK_EQ_INT(count_entries(pins), 0); /* ... and removed as stale */
    /* this process's own pins count (the server's queries beside its sinks) */
    lk_pin *a = lk_pin_create(st, err, sizeof err), *b = lk_pin_create(st, err, sizeof err);
    CHECK_MSG(a && b, "%s", err);
    CHECK_EQ_INT(lk_pins_oldest(st, &oldest, err, sizeof err), 1);
    lk_pin_destroy(a);
    CHECK_EQ_INT(lk_pins_oldest(st, &oldest, err, sizeof err), 1);
    lk_pin_destroy(b);
    CHECK_EQ_INT(lk_pins_oldest(st, &oldest, err, sizeof err), 0);
    lk_pin_destroy(NULL);
    /* a pin being created (empty, not locked yet) counts; an old empty one is stale */
    char p[800];
    snprintf(p, sizeof p, "%s/1-1", pins);
    FILE *f = fopen(p, "w");
    CHECK(f);
    if (f) fclose(f);
    CHECK_EQ_INT(lk_pins_oldest(st, &oldest, err, sizeof err), 1);
    struct timespec old[2] = {{time(NULL) - 120, 0}, {time(NULL) - 120, 0}};
    CHECK(utimensat(AT_FDCWD, p, old, 0) == 0);
    CHECK_EQ_INT(lk_pins_oldest(st, &oldest, err, sizeof err), 0);
    CHECK(access(p, F_OK) != 0);
    /* S3 stores have none */
    CHECK(lk_pin_create(NULL, err, sizeof err) == NULL && !err[0]);
    close(up[0]);
    close(up[1]);
    close(down[0]);
    close(down[1]);
    st_destroy(st);
}

/* ---- a failing sink backs off and stays responsive ---------------------------------- */

/* Make the lake's directory a file (every store operation fails), or back. */
static int break_lake(const tsink *t, int broken)
{
    char moved[700];
    snprintf(moved, sizeof moved, "%s.moved", t->lake);
    if (!broken) return unlink(t->lake) || rename(moved, t->lake) ? -1 : 0;
    if (rename(t->lake, moved)) return -1;
    FILE *f = fopen(t->lake, "w");
    return f && fclose(f) == 0 ? 0 : -1;
}

/* Issue: the retry wait was a plain sleep (up to 12.8 s, no jitter): a stop
 * asked during it waited for its end, past shutdown_timeout.  The wait now
 * ends at the stop; retries back off exponentially and are counted. */
TEST(lake_sink_failing_store_backs_off)
{
    tsink t;
    char err[512];
    CHECK_MSG(tsink_init(&t, "backoff", "ev", err, sizeof err) == 0, "%s", err);
    t.o.roll_rows = 1;
    lk_sink *s = lk_sink_create(&t.o, err, sizeof err);
    CHECK_MSG(s, "%s", err);
    CHECK(break_lake(&t, 1) == 0);
    tsink_put(&t, "{\"id\":1}");
    CHECK(lk_sink_start(s, err, sizeof err) == 0);
    usleep(1000 * 1000);
    lk_sink_stats k;
    lk_sink_get_stats(s, &k); /* waits of 50..100, 100..200, 200..400, 400..800 ms */
    CHECK(k.position == 0 && k.last_error[0]);
    CHECK_MSG(k.retries >= 2 && k.retries <= 6, "%llu retries in 1 s", (unsigned long long)k.retries);
    CHECK(k.retry_backoff_ms >= LK_RETRY_FIRST_MS);
    /* the store is back: the next retry lands, the backoff is over */
    CHECK(break_lake(&t, 0) == 0);
    for (int i = 0; i < 100 && k.position == 0; i++) {
        usleep(50 * 1000);
        lk_sink_get_stats(s, &k);
    }
    CHECK_EQ_INT(k.position, 1);
    CHECK_EQ_INT(k.retry_backoff_ms, 0);
    CHECK(!k.last_error[0]);
    /* failing again: a stop ends the wait at once */
    CHECK(break_lake(&t, 1) == 0);
    tsink_put(&t, "{\"id\":2}");
    usleep(2000 * 1000);
    int64_t t0 = lk__now_ms();
    lk_sink_stop_begin(s);
    CHECK_EQ_INT(lk_sink_stop_wait(s, -1), 0);
    int64_t ms = lk__now_ms() - t0;
    CHECK_MSG(ms < 500, "the stop took %lld ms", (long long)ms);
    lk_sink_destroy(s);
    CHECK(break_lake(&t, 0) == 0);
    tsink_free(&t);
}

/* ---- the original text of timestamp columns (tstext.c) -------------------------------- */

static ut_ts_layout layout_of(const char *text)
{
    int64_t us;
    ut_ts_layout lay;
    memset(&lay, 0, sizeof lay);
    if (ut_ts_parse_layout(text, strlen(text), &us, &lay) != 0) lay.sep = '!';
    return lay;
}

static int same_layout(const ut_ts_layout *a, const ut_ts_layout *b)
{
    return a->sep == b->sep && a->digits == b->digits && a->leap == b->leap && a->zone == b->zone &&
           a->neg == b->neg && a->off_min == b->off_min;
}

TEST(lake_tstext_runs_round_trip)
{
    const char *texts[] = {"2024-05-01T05:30:00+05:30", "2024-05-01t00:00:00.123z",
                           "2024-05-01 00:00:00.123456789", "2016-12-31T23:59:60-0000",
                           "2024-05-01T00:00:00.000000000-00:00"};
    ut_ts_layout l[5];
    for (int i = 0; i < 5; i++) l[i] = layout_of(texts[i]);
    CHECK(l[0].sep == 'T' && l[1].sep == 't' && l[2].sep == '!' && l[3].leap && l[4].digits == 9);
    lk_tstext *t = lk_tstext_create();
    /* rows: 0,1 null; 2..4 l0; 5 l1; 6 null; 7 legacy; 8 l3 noted twice (first try
     * cancelled as l0); 9 l4; 10, 11 null */
    lk_tstext_note(t, 2, &l[0]);
    lk_tstext_note(t, 3, &l[0]);
    lk_tstext_note(t, 4, &l[0]);
    lk_tstext_note(t, 5, &l[1]);
    lk_tstext_note(t, 7, NULL);
    lk_tstext_note(t, 8, &l[0]);
    lk_tstext_note(t, 8, &l[3]);
    lk_tstext_note(t, 9, &l[4]);
    ut_buf b = {0};
    CHECK(lk_tstext_encode(t, 12, &b) == 0);
    CHECK_EQ_STR((const char *)b.p, "1;T0+05:30,t3z,?,T0L-0000,T9-00:00;0*5,1*2,2,3,4*3");
    const int want[12] = {0, 0, 0, 0, 0, 1, 1, -1, 3, 4, 4, 4}; /* -1: legacy */
    char e2[200];
    lk_tstext *d = lk_tstext_decode((const char *)b.p, 12, e2, sizeof e2);
    CHECK_MSG(d, "%s", e2);
    for (int pass = 0; pass < 2; pass++) /* in order and backwards (the lookup's hint) */
        for (int k = 0; k < 12; k++) {
            int r = pass ? 11 - k : k;
            ut_ts_layout got;
            int rc = lk_tstext_layout(d, r, &got);
            CHECK_MSG(want[r] < 0 ? rc == 1 : rc == 0 && same_layout(&got, &l[want[r]]), "row %d", r);
        }
    char out[UT_TS_TEXT_MAX];
    int64_t us;
    CHECK(ut_ts_parse(texts[3], strlen(texts[3]), &us) == 0);
    lk_tstext_render(d, 8, us, out);
    CHECK_EQ_STR(out, texts[3]);
    lk_tstext_render(d, 7, us, out);
    CHECK_EQ_STR(out, "2017-01-01T00:00:00.000000Z"); /* the form of files without the key */
    lk_tstext_render(NULL, 0, us, out);
    CHECK_EQ_STR(out, "2017-01-01T00:00:00.000000Z");
    lk_tstext_destroy(d);
    /* malformed: refused (the reader then shows the UTC form) */
    const char *bad[] = {"", "2;T0Z;0", "1;T0Z;0*11", "1;T0Z;0*13", "1;T0Z;1*12", "1;T0Z", "1;T0;0*12",
                         "1;T0+24:00;0*12", "1;T0Z;0*12,", "1;T0Z;0*1,0*11", "1;X0Z;0*12", "1;T0Z;0**12",
                         "1;T0Z;-1*12", "1;T0Z,;0*12"};
    for (size_t i = 0; i < sizeof bad / sizeof bad[0]; i++) {
        d = lk_tstext_decode(bad[i], 12, e2, sizeof e2);
        CHECK_MSG(!d, "'%s' was taken", bad[i]);
    }
    ut_buf_free(&b);
    CHECK(lk_tstext_encode(t, 9, &b) == 0); /* row 9 was cancelled: not in the file */
    CHECK_EQ_STR((const char *)b.p, "1;T0+05:30,t3z,?,T0L-0000,T9-00:00;0*5,1*2,2,3");
    ut_buf_free(&b);
    lk_tstext_destroy(t);
    lk_tstext *empty = lk_tstext_create();
    CHECK(lk_tstext_encode(empty, 3, &b) == -1); /* only nulls: no key */
    lk_tstext_destroy(empty);
    ut_buf_free(&b);
}

/* A layout per row (every offset in turn): notes stop when there is no room,
 * and what was noted fits in LK_TSTEXT_MAX and reads back. */
TEST(lake_tstext_cap)
{
    lk_tstext *t = lk_tstext_create();
    int64_t rows = 0;
    ut_ts_layout lay = layout_of("2024-05-01T00:00:00+00:00");
    while (lk_tstext_room(t)) {
        lay.off_min = (uint16_t)(rows * 37 % 1440);
        lay.neg = (uint8_t)(rows / 1440 % 2);
        lk_tstext_note(t, rows++, &lay);
    }
    CHECK(rows > 5000);
    ut_buf b = {0};
    CHECK(lk_tstext_encode(t, rows + 1000, &b) == 0); /* trailing nulls add no bytes */
    CHECK(b.len <= LK_TSTEXT_MAX);
    CHECK(b.len > LK_TSTEXT_MAX - 200); /* the bound is close */
    char e2[200];
    lk_tstext *d = lk_tstext_decode((const char *)b.p, rows + 1000, e2, sizeof e2);
    CHECK_MSG(d, "%s", e2);
    for (int64_t r = 0; r < rows; r++) {
        ut_ts_layout got;
        CHECK(lk_tstext_layout(d, r, &got) == 0);
        CHECK_MSG(got.off_min == r * 37 % 1440 && got.neg == r / 1440 % 2, "row %lld", (long long)r);
    }
    lk_tstext_destroy(d);
    lk_tstext_destroy(t);
    ut_buf_free(&b);
}

/* ---- snapshot column types: decimal, time, timestamp_ntz, bytes ------------ */

#define LT_ROWS 9
static const char *const lt_amount[LT_ROWS] = {"1234567890.12", "-0.05", NULL, "0.10", "-9999999999.99",
                                               "7", "0.01", "-0.01", "42.5"};
static const char *const lt_big[LT_ROWS] = {"-1234567890123456789012345678.0123456789", "0.1", NULL,
                                            "9999999999999999999999999999.9999999999", "0", "-0.0000000001",
                                            "12345678901234567890.5", "1", "-99999999999999999999999999.25"};
static const int64_t lt_at[LT_ROWS] = {0, 43200500000LL, -1, 86400000000LL, 3723000001LL,
                                       86399999999LL, 60000000LL, 43200000000LL, 1};
static const int64_t lt_local[LT_ROWS] = {1714521600000000LL, 1714566600123456LL, -1, 946684799000000LL,
                                          -62167219200000000LL, 253402300799999999LL, 0, 1714521600000001LL,
                                          -1000000LL};
static const char *const lt_raw[LT_ROWS] = {"\x00\x01\xff", "", NULL, "abc", "\xfe", "z", "\x80\x80", "a", "b"};
static const int lt_rawn[LT_ROWS] = {3, 0, 0, 3, 1, 1, 2, 1, 1};

/* Land table `name` at lake/<name>: LT_ROWS rows over 3 files (row groups of
 * 2 rows), columns of the four types plus id and _ingest_ts; created by the
 * landing, or first as the table of `stream` (non-NULL).  0 or -1. */
static int lt_land(ct_catalog *c, st_store *st, const char *lake, const char *tmpdir,
                   const char *name, const char *stream, char *err, size_t errlen)
{
    ct_column cols[7];
    const char *texts[7] = {"int64", "decimal(12,2)", "decimal(38,10)", "time", "timestamp_ntz",
                            "bytes", "timestamp"};
    const char *names[7] = {"id", "amount", "big", "at", "local", "raw", "_ingest_ts"};
    pq_column_spec spec[7];
    for (int i = 0; i < 7; i++) {
        memset(&cols[i], 0, sizeof cols[i]);
        snprintf(cols[i].name, sizeof cols[i].name, "%s", names[i]);
        if (ct_column_type_parse(texts[i], &cols[i].type, &cols[i].precision, &cols[i].scale))
            return ut_err(err, errlen, "type %s", texts[i]);
        spec[i] = (pq_column_spec){.name = names[i], .optional = i != 6};
        lk_pq_spec(&cols[i], &spec[i]);
    }
    pq_writer_opts wo;
    pq_writer_opts_init(&wo);
    wo.row_group_rows = 2;
    char loc[700], tmp[3][4400], fname[3][32];
    snprintf(loc, sizeof loc, "%s/%s", lake, name);
    lk_land_file lf[3];
    pq_writer *w[3] = {0};
    int rc = -1;
    for (int f = 0; f < 3; f++) {
        lk_tmp_path(tmpdir, name, tmp[f], sizeof tmp[f]);
        snprintf(fname[f], sizeof fname[f], "part-%d.parquet", f);
        w[f] = pq_writer_create(tmp[f], spec, 7, &wo, err, errlen);
        if (!w[f]) goto done;
        for (int r = 3 * f; r < 3 * f + 3; r++) {
            int bad = pq_writer_put_i64(w[f], 0, r);
            if (!lt_amount[r]) {
                for (int k = 1; k < 6; k++) bad |= pq_writer_put_null(w[f], k);
            } else {
                bad |= pq_writer_put_decimal(w[f], 1, lt_amount[r], strlen(lt_amount[r]));
                bad |= pq_writer_put_decimal(w[f], 2, lt_big[r], strlen(lt_big[r]));
                bad |= pq_writer_put_i64(w[f], 3, lt_at[r]);
                bad |= pq_writer_put_i64(w[f], 4, lt_local[r]);
                bad |= pq_writer_put_bytes(w[f], 5, lt_raw[r], (size_t)lt_rawn[r]);
            }
            bad |= pq_writer_put_i64(w[f], 6, 1714521600000000LL + r);
            if (bad || pq_writer_end_row(w[f])) {
                ut_err(err, errlen, "row %d: %s", r, pq_writer_error(w[f]));
                goto done;
            }
        }
        lf[f] = (lk_land_file){.w = w[f], .tmp = tmp[f], .partition = "", .name = fname[f],
                               .min_offset = -1, .max_offset = -1, .schema_version = 1};
    }
    ct_new_table nt = {.name = name, .location = loc, .partition = "", .cols = cols, .ncols = 7};
    ct_table_change t = {.create = &nt};
    if (stream) {
        ct_table tb;
        if (ct_table_ensure(c, name, loc, "", stream, &tb, err, errlen) < 0) goto done;
        t = (ct_table_change){.table_id = tb.id};
        ct_table_free(&tb);
        if (ct_schema_set(c, t.table_id, cols, 7, NULL, NULL, err, errlen)) goto done;
    }
    lk_landing l = {.cat = c, .store = st, .tables = {name}, .change = {.tables = &t, .ntables = 1}};
    rc = lk_land(&l, lf, 3, err, errlen);
done:
    for (int f = 0; f < 3; f++) pq_writer_destroy(w[f]);
    return rc;
}

/* What `SELECT id, amount, big, at, local, hex(raw), typeof(...)` gives for
 * the rows: decimals as REAL, times and wall-clock timestamps as text, bytes
 * as BLOB. */
static const char lt_select[] =
    "SELECT id, amount, big, at, local, hex(raw), typeof(amount), typeof(at), typeof(local), "
    "typeof(raw) FROM %s ORDER BY id";
static const char lt_want[] =
    "0,1234567890.12,-1.23456789012346e+27,00:00:00,2024-05-01T00:00:00,0001FF,real,text,text,blob;"
    "1,-0.05,0.1,12:00:00.500000,2024-05-01T12:30:00.123456,,real,text,text,blob;"
    "2,NULL,NULL,NULL,NULL,,null,null,null,null;" /* hex(NULL) is '' */
    "3,0.1,1.0e+28,24:00:00,1999-12-31T23:59:59,616263,real,text,text,blob;"
    "4,-9999999999.99,0.0,01:02:03.000001,0000-01-01T00:00:00,FE,real,text,text,blob;"
    "5,7.0,-1.0e-10,23:59:59.999999,9999-12-31T23:59:59.999999,7A,real,text,text,blob;"
    "6,0.01,1.23456789012346e+19,00:01:00,1970-01-01T00:00:00,8080,real,text,text,blob;"
    "7,-0.01,1.0,12:00:00,2024-05-01T00:00:00.000001,61,real,text,text,blob;"
    "8,42.5,-1.0e+26,00:00:00.000001,1969-12-31T23:59:59,62,real,text,text,blob";

typedef struct lt_res {
    char text[4096];
    int rows;
} lt_res;

static int lt_collect(void *ctx, sqlite3_stmt *st)
{
    lt_res *r = ctx;
    size_t l = strlen(r->text);
    for (int i = 0; i < sqlite3_column_count(st); i++) {
        const char *v = (const char *)sqlite3_column_text(st, i);
        l += (size_t)snprintf(r->text + l, sizeof r->text - l, "%s%s",
                              i ? "," : (r->rows ? ";" : ""), v ? v : "NULL");
        if (l >= sizeof r->text) l = sizeof r->text - 1;
    }
    r->rows++;
    return 0;
}

static int64_t lt_q(sq_engine *e, const char *sql, lt_res *r, char *err, size_t errlen)
{
    memset(r, 0, sizeof *r);
    sq_sink s = {r, NULL, lt_collect};
    int64_t n = sq_query(e, sql, &s, err, errlen);
    if (n < 0) printf("  query failed: %s: %s\n", sql, err);
    return n;
}

TEST(lake_snapshot_types_land_read_prune)
{
    tsink T;
    char err[1024], sql[512];
    CHECK_MSG(tsink_init(&T, "lake_ltypes", "lt", err, sizeof err) == 0, "%s", err);
    CHECK(ut_mkdir_p(T.tmp, err, sizeof err) == 0);
    ct_catalog *c = ct_open(T.cat, err, sizeof err);
    CHECK_MSG(c, "%s", err);
    CHECK_MSG(lt_land(c, T.st, T.lake, T.tmp, "snap", NULL, err, sizeof err) == 0, "%s", err);
    /* the catalog's statistics: exact decimals, times and wall-clock texts, no bytes bounds */
    ct_table t;
    CHECK_EQ_INT(ct_table_get(c, "snap", &t, err, sizeof err), 1);
    ct_file *files = NULL;
    int nf = ct_files(c, t.id, NULL, &files, err, sizeof err);
    CHECK_EQ_INT(nf, 3);
    if (nf == 3) {
        const ct_colstat *s = files[0].stats;
        CHECK_EQ_INT(files[0].nstats, 7);
        CHECK(s[1].has_minmax && !strcmp(s[1].min, "-0.05") && !strcmp(s[1].max, "1234567890.12"));
        CHECK_MSG(s[2].has_minmax && !strcmp(s[2].min, "-1234567890123456789012345678.0123456789") &&
                  !strcmp(s[2].max, "0.1000000000"), "%s %s", s[2].min, s[2].max);
        CHECK(s[3].has_minmax && !strcmp(s[3].min, "00:00:00") && !strcmp(s[3].max, "12:00:00.500000"));
        CHECK(s[4].has_minmax && !strcmp(s[4].min, "2024-05-01T00:00:00") &&
              !strcmp(s[4].max, "2024-05-01T12:30:00.123456"));
        CHECK(!s[5].has_minmax && s[5].nulls == 1);
        s = files[1].stats;
        CHECK_MSG(!strcmp(s[2].min, "-0.0000000001") && !strcmp(s[2].max, "9999999999999999999999999999.9999999999"),
                  "%s %s", s[2].min, s[2].max);
        CHECK(!strcmp(s[4].min, "0000-01-01T00:00:00") && !strcmp(s[4].max, "9999-12-31T23:59:59.999999"));
    }
    ct_files_free(files, nf);
    ct_table_free(&t);

    sq_opts so = {0};
    so.catalog_path = T.cat;
    so.store = T.st;
    so.tmp_dir = T.tmp;
    so.no_tail = 1;
    sq_engine *e = sq_open(&so, err, sizeof err);
    CHECK_MSG(e, "%s", err);
    lt_res r;
    snprintf(sql, sizeof sql, lt_select, "snap");
    CHECK_EQ_INT(lt_q(e, sql, &r, err, sizeof err), LT_ROWS);
    CHECK_EQ_STR(r.text, lt_want);
    /* predicates: every matching row, whatever files and row groups are skipped */
    struct {
        const char *where;
        const char *ids;
        int files_read; /* -1: not checked */
    } p[] = {
        {"at > '13:00'", "3,5", 1},         {"at >= '12:00:00.5'", "1,3,5", -1},
        {"at = '24:00:00'", "3", 1},           {"at < '00:00:00.000002'", "0,8", -1},
        {"at IN ('00:01:00', '12:00:00')", "6,7", 3},
        {"local < '2000'", "3,4,6,8", -1},     {"local >= '9999'", "5", 1},
        {"local = '2024-05-01T00:00:00.000001'", "7", 3},
        {"local > '2024-05-01T00:00:00'", "1,5,7", -1},
        {"amount = 0.1", "3", -1},             {"amount = -0.05", "1", -1},
        {"amount > 1234567890.11", "0", -1},  {"amount < -9999999999.98", "4", -1},
        {"amount >= '7'", "0,5,8", -1},        {"amount BETWEEN -0.01 AND 0.01", "6,7", -1},
        {"big > 1e27", "3", -1},               {"big = 1", "7", -1},
        {"big < -1e27", "0", -1},              {"raw = x'616263'", "3", -1},
        {"raw > x'80'", "4,6", -1},            {"raw IS NULL", "2", -1},
    };
    for (size_t i = 0; i < sizeof p / sizeof *p; i++) {
        snprintf(sql, sizeof sql, "SELECT group_concat(id) FROM (SELECT id FROM snap WHERE %s ORDER BY id)",
                 p[i].where);
        CHECK(lt_q(e, sql, &r, err, sizeof err) == 1);
        CHECK_MSG(!strcmp(r.text, p[i].ids), "%s: got %s, want %s", p[i].where, r.text, p[i].ids);
        sq_stats st;
        sq_get_stats(e, &st);
        if (p[i].files_read >= 0)
            CHECK_MSG(st.files_read == p[i].files_read, "%s: %lld files read", p[i].where,
                      (long long)st.files_read);
    }
    sq_close(e);
    ct_close(c);
    tsink_free(&T);
}

/* Compaction copies the four types exactly: decimals as their unscaled
 * values (not the reader's doubles), times, wall-clock times and bytes as
 * they are. */
TEST(lake_compaction_copies_snapshot_types_exactly)
{
    tsink T;
    char err[1024], sql[512];
    CHECK_MSG(tsink_init(&T, "lake_ltcompact", "lc", err, sizeof err) == 0, "%s", err);
    CHECK(ut_mkdir_p(T.tmp, err, sizeof err) == 0);
    ct_catalog *c = ct_open(T.cat, err, sizeof err);
    CHECK_MSG(c, "%s", err);
    CHECK_MSG(lt_land(c, T.st, T.lake, T.tmp, T.table, "lc", err, sizeof err) == 0, "%s", err);
    T.o.compact_min_files = 2;
    lk_sink *s = lk_sink_create(&T.o, err, sizeof err);
    CHECK_MSG(s, "%s", err);
    CHECK_MSG(lk_sink_maintain(s, err, sizeof err) == 0, "%s", err);
    lk_sink_stats k;
    lk_sink_get_stats(s, &k);
    CHECK_EQ_INT(k.files_compacted, 3);
    ct_table t;
    CHECK_EQ_INT(ct_table_get(c, T.table, &t, err, sizeof err), 1);
    ct_file *files = NULL;
    int nf = ct_files(c, t.id, NULL, &files, err, sizeof err);
    CHECK_EQ_INT(nf, 1);
    if (nf == 1) {
        const ct_colstat *st = files[0].stats;
        CHECK_EQ_INT(files[0].rows, LT_ROWS);
        CHECK(!strcmp(st[1].min, "-9999999999.99") && !strcmp(st[1].max, "1234567890.12"));
        CHECK(!strcmp(st[2].min, "-1234567890123456789012345678.0123456789") &&
              !strcmp(st[2].max, "9999999999999999999999999999.9999999999"));
        CHECK(!strcmp(st[3].min, "00:00:00") && !strcmp(st[3].max, "24:00:00"));
        /* every decimal exactly, read back as the unscaled values */
        char p[3000];
        snprintf(p, sizeof p, "%s/%s/%s", T.lake, T.table, files[0].path);
        pq_reader *r = pq_reader_open(p, err, sizeof err);
        CHECK_MSG(r, "%s", err);
        int64_t row = 0;
        for (int g = 0; r && g < pq_reader_num_row_groups(r); g++) {
            pq_col a, b, raw, at;
            int ia = pq_reader_find_column(r, "amount"), ib = pq_reader_find_column(r, "big");
            CHECK(pq_reader_read_decimal(r, g, ia, &a, err, sizeof err) == 0);
            CHECK(pq_reader_read_decimal(r, g, ib, &b, err, sizeof err) == 0);
            CHECK(pq_reader_read(r, g, pq_reader_find_column(r, "raw"), &raw, err, sizeof err) == 0);
            CHECK(pq_reader_read(r, g, pq_reader_find_column(r, "local"), &at, err, sizeof err) == 0);
            pq_column_info ci;
            pq_reader_column(r, ib, &ci);
            CHECK(ci.type == PQ_DECIMAL && ci.precision == 38 && ci.scale == 10);
            for (int64_t i = 0; i < a.n; i++, row++) {
                if (!lt_amount[row]) {
                    CHECK(a.nulls && a.nulls[i] && b.nulls[i] && raw.nulls[i]);
                    continue;
                }
                char ta[96], tb[96], wb[96];
                const pq_dec128 *da = (const pq_dec128 *)a.values + i, *db = (const pq_dec128 *)b.values + i;
                pq_decimal_format(da->hi, da->lo, 2, ta, sizeof ta);
                pq_decimal_format(db->hi, db->lo, 10, tb, sizeof tb);
                /* the input at scale 10: padded fraction */
                const char *dot = strchr(lt_big[row], '.');
                size_t fr = dot ? strlen(dot + 1) : 0;
                snprintf(wb, sizeof wb, "%s%s%.*s", lt_big[row], dot ? "" : ".", (int)(10 - fr),
                         "0000000000");
                CHECK_MSG(!strcmp(tb, wb), "row %lld: big %s, want %s", (long long)row, tb, wb);
                char wa[32];
                snprintf(wa, sizeof wa, "%s", lt_amount[row]);
                if (!strchr(wa, '.')) strcat(wa, ".00");
                else if (strlen(strchr(wa, '.')) == 2) strcat(wa, "0");
                CHECK_MSG(!strcmp(ta, wa), "row %lld: amount %s, want %s", (long long)row, ta, wa);
                CHECK(raw.off[i + 1] - raw.off[i] == (uint64_t)lt_rawn[row] &&
                      !memcmp(raw.data + raw.off[i], lt_raw[row], (size_t)lt_rawn[row]));
                CHECK_EQ_INT(((int64_t *)at.values)[i], lt_local[row]);
            }
            pq_col_free(&a);
            pq_col_free(&b);
            pq_col_free(&raw);
            pq_col_free(&at);
        }
        CHECK_EQ_INT(row, LT_ROWS);
        pq_reader_destroy(r);
    }
    ct_files_free(files, nf);
    ct_table_free(&t);
    /* and the SQL engine reads the merged file as it read the three */
    sq_opts so = {0};
    so.catalog_path = T.cat;
    so.store = T.st;
    so.tmp_dir = T.tmp;
    so.no_tail = 1;
    sq_engine *e = sq_open(&so, err, sizeof err);
    CHECK_MSG(e, "%s", err);
    lt_res q;
    snprintf(sql, sizeof sql, lt_select, T.table);
    CHECK_EQ_INT(lt_q(e, sql, &q, err, sizeof err), LT_ROWS);
    CHECK_EQ_STR(q.text, lt_want);
    sq_close(e);
    lk_sink_destroy(s);
    ct_close(c);
    tsink_free(&T);
}

/* A stream's table that has snapshot-type columns (a decimal's precision
 * and scale included) keeps them through the sink's flushes; a record's
 * value in one widens it to string, as for any type the records do not
 * make. */
TEST(lake_sink_keeps_snapshot_type_columns)
{
    tsink T;
    char err[1024];
    CHECK_MSG(tsink_init(&T, "lake_ltsink", "sd", err, sizeof err) == 0, "%s", err);
    ct_catalog *c = ct_open(T.cat, err, sizeof err);
    CHECK_MSG(c, "%s", err);
    ct_table t;
    char loc[700];
    snprintf(loc, sizeof loc, "%s/%s", T.lake, T.table);
    CHECK_MSG(ct_table_ensure(c, T.table, loc, "dt,hr", "sd", &t, err, sizeof err) == 1, "%s", err);
    ct_column cols[3] = {{.name = "id", .type = CT_INT64},
                         {.name = "amount", .type = CT_DECIMAL, .precision = 12, .scale = 2},
                         {.name = "at", .type = CT_TIME}};
    CHECK_MSG(ct_schema_set(c, t.id, cols, 3, NULL, NULL, err, sizeof err) == 0, "%s", err);
    ct_table_free(&t);
    lk_sink *s = lk_sink_create(&T.o, err, sizeof err);
    CHECK_MSG(s, "%s", err);
    tsink_put(&T, "{\"id\":1,\"amount\":null,\"event_time\":\"2024-05-01T00:00:00Z\"}");
    tsink_put(&T, "{\"id\":2,\"other\":true,\"event_time\":\"2024-05-01T00:00:00Z\"}");
    CHECK_MSG(lk_sink_step(s, 1, err, sizeof err) == 2, "%s", err);
    CHECK_EQ_INT(ct_table_get(c, T.table, &t, err, sizeof err), 1);
    char ty[CT_TYPE_TEXT_MAX];
    CHECK_EQ_STR(ct_column_type_text(&t.cols[1], ty, sizeof ty), "decimal(12,2)");
    CHECK_EQ_STR(ct_column_type_text(&t.cols[2], ty, sizeof ty), "time");
    ct_table_free(&t);
    tsink_put(&T, "{\"id\":3,\"amount\":1.5,\"at\":\"12:00\",\"event_time\":\"2024-05-01T00:00:00Z\"}");
    CHECK_MSG(lk_sink_step(s, 1, err, sizeof err) == 1, "%s", err);
    CHECK_EQ_INT(ct_table_get(c, T.table, &t, err, sizeof err), 1);
    CHECK_EQ_STR(ct_column_type_text(&t.cols[1], ty, sizeof ty), "string");
    CHECK_EQ_STR(ct_column_type_text(&t.cols[2], ty, sizeof ty), "string");
    ct_table_free(&t);
    sq_opts so = {0};
    so.catalog_path = T.cat;
    so.store = T.st;
    so.tmp_dir = T.tmp;
    so.no_tail = 1;
    sq_engine *e = sq_open(&so, err, sizeof err);
    CHECK_MSG(e, "%s", err);
    lt_res r;
    CHECK_EQ_INT(lt_q(e, "SELECT id, amount, at FROM t1_sd ORDER BY id", &r, err, sizeof err), 3);
    CHECK_EQ_STR(r.text, "1,NULL,NULL;2,NULL,NULL;3,1.5,12:00");
    sq_close(e);
    lk_sink_destroy(s);
    ct_close(c);
    tsink_free(&T);
}
