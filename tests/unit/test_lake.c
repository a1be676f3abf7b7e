/* Lake sink: schema widening, event time, partitions, and a sink round trip
 * (journal -> files + position committed; garbage collected; resume). */
#include "t.h"
#include "lake/sink_int.h"

#include <stdio.h>
#include <stdlib.h>
#include <sys/stat.h>
#include <unistd.h>

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
    snprintf(cmd, sizeof cmd, "find %s -name '*.parquet' | wc -l", dir);
    FILE *f = popen(cmd, "r");
    int n = -1;
    if (f && fscanf(f, "%d", &n) != 1) n = -1;
    if (f) pclose(f);
    return n;
}

TEST(lake_sink_roundtrip_gc_resume)
{
    char base[512], sdir[600], lake[600], cat[600], tmp[600], err[512];
    snprintf(base, sizeof base, "%s/lake1", t_tmpdir());
    snprintf(sdir, sizeof sdir, "%s/streams", base);
    snprintf(lake, sizeof lake, "%s/lake", base);
    snprintf(cat, sizeof cat, "%s/catalog.db", base);
    snprintf(tmp, sizeof tmp, "%s/tmp", base);
    CHECK(ut_mkdir_p(base, err, sizeof err) == 0);
    jr_stream *js = jr_stream_open(sdir, "ev", NULL, err, sizeof err);
    CHECK_MSG(js, "%s", err);
    st_store *st = st_local_create(lake, err, sizeof err);
    CHECK_MSG(st, "%s", err);
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
    lk_sink_opts o;
    lk_sink_opts_init(&o);
    o.stream_name = "ev";
    o.stream = js;
    o.table = "t1_ev";
    o.catalog_path = cat;
    o.store = st;
    o.tmp_dir = tmp;
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
    CHECK_EQ_INT(count_files(tdir), 3);
    ct_catalog *c = ct_open(cat, err, sizeof err);
    CHECK_MSG(c, "%s", err);
    ct_table t;
    CHECK(ct_table_get(c, "t1_ev", &t, err, sizeof err) == 1);
    ct_file *files;
    int nf = ct_files(c, t.id, "dt=2024-05-01/hr=01", &files, err, sizeof err);
    CHECK_EQ_INT(nf, 1);
    CHECK_EQ_INT(files[0].rows, 100); /* 99 from the two flushes + 1 */
    ct_files_free(files, nf);
    ct_table_free(&t);
    ct_close(c);
    st_destroy(st);
    jr_stream_close(js);
}

/* Issue: after journal recovery lost records, the sink's position stayed past
 * the stream's end: new records got offsets below it, never landed, and lag
 * showed 0.  Now the stream hands out offsets from the position on; a sink
 * that cannot have that (read-only stream) stops with an error. */
TEST(lake_sink_position_past_stream_end)
{
    char base[600], sdir[700], lake[700], cat[700], tmp[700], err[512], cmd[800];
    snprintf(base, sizeof base, "%s/lakepe", t_tmpdir());
    snprintf(sdir, sizeof sdir, "%s/streams", base);
    snprintf(lake, sizeof lake, "%s/lake", base);
    snprintf(cat, sizeof cat, "%s/catalog.db", base);
    snprintf(tmp, sizeof tmp, "%s/tmp", base);
    CHECK(ut_mkdir_p(base, err, sizeof err) == 0);
    st_store *st = st_local_create(lake, err, sizeof err);
    CHECK_MSG(st, "%s", err);
    lk_sink_opts o;
    lk_sink_opts_init(&o);
    o.stream_name = "pe";
    o.table = "t1_pe";
    o.catalog_path = cat;
    o.store = st;
    o.tmp_dir = tmp;
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
    st_destroy(st);
}
