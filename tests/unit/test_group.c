/* Consumer groups (Redis Streams semantics): XREADGROUP / XACK / XPENDING /
 * XCLAIM / XAUTOCLAIM, dead letters, restarts, torn logs, retention. */
#include "t.h"
#include "journal/journal.h"

#include <fcntl.h>
#include <inttypes.h>
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <unistd.h>

static const char *gdir(const char *name)
{
    static char p[512];
    snprintf(p, sizeof p, "%s/%s", t_tmpdir(), name);
    return p;
}

static int64_t fake_clock(void *ctx)
{
    return *(int64_t *)ctx;
}

/* Append n records "r<offset>" (one call, so one sync). */
static int add(jr_stream *s, int n)
{
    char err[256], (*b)[32] = malloc((size_t)n * 32);
    jr_iov *v = malloc((size_t)n * sizeof *v);
    jr_info info;
    jr_stream_info(s, &info);
    for (int i = 0; i < n; i++) {
        int l = snprintf(b[i], 32, "r%" PRIu64, info.next_offset + (uint64_t)i);
        v[i] = (jr_iov){b[i], (size_t)l};
    }
    uint64_t first;
    int rc = jr_append(s, v, n, 1000, &first, err, sizeof err);
    if (rc) printf("  append: %s\n", err);
    free(b);
    free(v);
    return rc;
}

/* Does rec hold "r<offset>"? */
static int rec_ok(const jr_record *r)
{
    char want[32];
    int l = snprintf(want, sizeof want, "r%" PRIu64, r->offset);
    return r->p && r->n == (uint32_t)l && !memcmp(r->p, want, (size_t)l);
}

static jr_stream *open_stream(const char *dir, const char *name, int fsync_never)
{
    char err[256];
    jr_opts o;
    jr_opts_init(&o);
    if (fsync_never) o.fsync = JR_FSYNC_NEVER;
    jr_stream *s = jr_stream_open(dir, name, &o, err, sizeof err);
    if (!s) printf("  stream: %s\n", err);
    return s;
}

static jr_group *open_group(jr_stream *s, const char *name, uint64_t start, int64_t *clock)
{
    char err[256];
    jr_group_opts o;
    jr_group_opts_init(&o);
    o.start = start;
    jr_group *g = jr_group_open(s, name, &o, err, sizeof err);
    if (!g) printf("  group: %s\n", err);
    else if (clock) jr_group_set_clock(g, fake_clock, clock);
    return g;
}

TEST(group_read_ack_summary)
{
    char err[256];
    jr_stream *s = open_stream(gdir("g1"), "ev", 1);
    CHECK(s && add(s, 10) == 0);
    jr_group *g = open_group(s, "loader", 0, NULL);
    CHECK(g);
    jr_group_buf *b = jr_group_buf_create(s);
    jr_record rec[16];
    /* XREADGROUP ... > delivers new entries in order, each once */
    CHECK_EQ_INT(jr_group_read(g, "alice", b, rec, 3, 0, 0, err, sizeof err), 3);
    for (int i = 0; i < 3; i++) CHECK(rec[i].offset == (uint64_t)i && rec_ok(&rec[i]));
    CHECK_EQ_INT(jr_group_read(g, "bob", b, rec, 3, 0, 0, err, sizeof err), 3);
    CHECK_EQ_INT(rec[0].offset, 3);
    CHECK(rec_ok(&rec[2]));
    /* max_bytes: about that much payload, at least one record */
    CHECK_EQ_INT(jr_group_read(g, "alice", b, rec, 10, 1, 0, err, sizeof err), 1);
    CHECK_EQ_INT(rec[0].offset, 6);
    jr_pending_summary ps;
    CHECK(jr_group_pending_summary(g, &ps, err, sizeof err) == 0);
    CHECK_EQ_INT(ps.count, 7);
    CHECK_EQ_INT(ps.min, 0);
    CHECK_EQ_INT(ps.max, 6);
    CHECK_EQ_INT(ps.nconsumers, 2);
    CHECK_EQ_STR(ps.consumers[0].name, "alice");
    CHECK_EQ_INT(ps.consumers[0].pending, 4);
    CHECK_EQ_STR(ps.consumers[1].name, "bob");
    CHECK_EQ_INT(ps.consumers[1].pending, 3);
    jr_pending_summary_free(&ps);
    /* XACK counts only entries that were pending; duplicates once */
    uint64_t acks[] = {0, 1, 99, 0, 4};
    CHECK_EQ_INT(jr_group_ack(g, acks, 5, err, sizeof err), 3);
    CHECK_EQ_INT(jr_group_ack(g, acks, 5, err, sizeof err), 0);
    jr_group_info gi;
    CHECK(jr_group_info_get(g, &gi, err, sizeof err) == 0);
    CHECK_EQ_INT(gi.pending, 4);
    CHECK_EQ_INT(gi.entries_read, 7);
    CHECK_EQ_INT(gi.last_delivered, 6);
    CHECK_EQ_INT(gi.lag, 3);
    CHECK_EQ_INT(gi.acked, 3);
    CHECK_EQ_INT(gi.nconsumers, 2);
    CHECK_EQ_INT(gi.consumers[0].pending, 2); /* alice: 2, 6 */
    CHECK_EQ_INT(gi.consumers[1].pending, 2); /* bob: 3, 5 */
    jr_group_info_free(&gi);
    /* XREADGROUP ... 0: own pending entries, ownership unchanged */
    CHECK_EQ_INT(jr_group_read_pending(g, "alice", b, 0, rec, 10, err, sizeof err), 2);
    CHECK(rec[0].offset == 2 && rec[1].offset == 6 && rec_ok(&rec[0]) && rec_ok(&rec[1]));
    CHECK_EQ_INT(jr_group_read_pending(g, "alice", b, 3, rec, 10, err, sizeof err), 1);
    CHECK_EQ_INT(jr_group_read_pending(g, "nobody", b, 0, rec, 10, err, sizeof err), 0);
    /* read the rest; then nothing new */
    CHECK_EQ_INT(jr_group_read(g, "alice", b, rec, 16, 0, 0, err, sizeof err), 3);
    CHECK_EQ_INT(jr_group_read(g, "alice", b, rec, 16, 0, 0, err, sizeof err), 0);
    CHECK(jr_group_info_get(g, &gi, err, sizeof err) == 0);
    CHECK_EQ_INT(gi.lag, 0);
    jr_group_info_free(&gi);
    jr_group_buf_destroy(b);
    jr_group_close(g);
    jr_stream_close(s);
}

typedef struct {
    jr_stream *s;
    int delay_ms;
} late_arg;

static void *late_append(void *p)
{
    late_arg *a = p;
    usleep((useconds_t)a->delay_ms * 1000);
    add(a->s, 2);
    return NULL;
}

TEST(group_start_new_setid_block)
{
    char err[256];
    jr_stream *s = open_stream(gdir("g2"), "ev", 1);
    CHECK(s && add(s, 5) == 0);
    int64_t now = 1000000;
    jr_group *g = open_group(s, "tail", JR_GROUP_START_NEW, &now); /* '$' */
    CHECK(g);
    jr_group_buf *b = jr_group_buf_create(s);
    jr_record rec[16];
    CHECK_EQ_INT(jr_group_read(g, "a", b, rec, 10, 0, 0, err, sizeof err), 0);
    CHECK_EQ_INT(jr_group_read(g, "a", b, rec, 10, 0, 20, err, sizeof err), 0); /* times out */
    /* BLOCK: a record appended while waiting is delivered */
    pthread_t th;
    late_arg la = {s, 30};
    pthread_create(&th, NULL, late_append, &la);
    int n = jr_group_read(g, "a", b, rec, 10, 0, 2000, err, sizeof err);
    pthread_join(th, NULL);
    CHECK_EQ_INT(n, 2);
    CHECK(rec[0].offset == 5 && rec_ok(&rec[0]) && rec[1].offset == 6);
    /* claim 5 once (count 2), then SETID back: re-delivery resets owner and count */
    now += 10;
    uint64_t five = 5;
    CHECK_EQ_INT(jr_group_claim(g, "a", 0, &five, 1, 0, b, rec, err, sizeof err), 1);
    jr_pending_entry pe[8];
    CHECK_EQ_INT(jr_group_pending(g, 5, 5, 8, NULL, 0, pe, err, sizeof err), 1);
    CHECK_EQ_INT(pe[0].deliveries, 2);
    CHECK(jr_group_setid(g, 4, err, sizeof err) == 0);
    CHECK_EQ_INT(jr_group_read(g, "b", b, rec, 2, 0, 0, err, sizeof err), 2);
    CHECK(rec[0].offset == 4 && rec[1].offset == 5);
    CHECK_EQ_INT(jr_group_pending(g, 0, UINT64_MAX, 8, NULL, 0, pe, err, sizeof err), 3);
    CHECK(pe[0].offset == 4 && !strcmp(pe[0].consumer, "b") && pe[0].deliveries == 1);
    CHECK(pe[1].offset == 5 && !strcmp(pe[1].consumer, "b") && pe[1].deliveries == 1);
    CHECK(pe[2].offset == 6 && !strcmp(pe[2].consumer, "a"));
    CHECK(jr_group_setid(g, JR_GROUP_START_NEW, err, sizeof err) == 0);
    CHECK_EQ_INT(jr_group_read(g, "b", b, rec, 2, 0, 0, err, sizeof err), 0);
    jr_group_buf_destroy(b);
    jr_group_close(g);
    jr_stream_close(s);
}

TEST(group_pending_extended_idle_grows)
{
    char err[256];
    jr_stream *s = open_stream(gdir("g3"), "ev", 1);
    CHECK(s && add(s, 10) == 0);
    int64_t now = 1000;
    jr_group *g = open_group(s, "g", 0, &now);
    CHECK(g);
    jr_group_buf *b = jr_group_buf_create(s);
    jr_record rec[16];
    CHECK_EQ_INT(jr_group_read(g, "alice", b, rec, 3, 0, 0, err, sizeof err), 3);
    now = 1500;
    CHECK_EQ_INT(jr_group_read(g, "bob", b, rec, 2, 0, 0, err, sizeof err), 2);
    now = 1700;
    jr_pending_entry pe[16];
    CHECK_EQ_INT(jr_group_pending(g, 0, UINT64_MAX, 16, NULL, 0, pe, err, sizeof err), 5);
    CHECK(pe[0].offset == 0 && pe[0].idle_ms == 700 && pe[0].deliveries == 1);
    CHECK_EQ_STR(pe[0].consumer, "alice");
    CHECK(pe[4].offset == 4 && pe[4].idle_ms == 200);
    CHECK_EQ_STR(pe[4].consumer, "bob");
    now = 2700; /* idle grows with the clock */
    CHECK_EQ_INT(jr_group_pending(g, 0, UINT64_MAX, 16, NULL, 0, pe, err, sizeof err), 5);
    CHECK_EQ_INT(pe[0].idle_ms, 1700);
    /* consumer filter, IDLE filter, range, count */
    CHECK_EQ_INT(jr_group_pending(g, 0, UINT64_MAX, 16, "bob", 0, pe, err, sizeof err), 2);
    CHECK_EQ_INT(jr_group_pending(g, 0, UINT64_MAX, 16, "carol", 0, pe, err, sizeof err), 0);
    CHECK_EQ_INT(jr_group_pending(g, 0, UINT64_MAX, 16, NULL, 1500, pe, err, sizeof err), 3);
    CHECK_EQ_INT(jr_group_pending(g, 1, 3, 16, NULL, 0, pe, err, sizeof err), 3);
    CHECK(pe[0].offset == 1 && pe[2].offset == 3);
    CHECK_EQ_INT(jr_group_pending(g, 0, UINT64_MAX, 2, NULL, 0, pe, err, sizeof err), 2);
    /* consumer idle / inactive (XINFO CONSUMERS) */
    jr_group_info gi;
    CHECK(jr_group_info_get(g, &gi, err, sizeof err) == 0);
    CHECK_EQ_STR(gi.consumers[0].name, "alice");
    CHECK_EQ_INT(gi.consumers[0].idle_ms, 1700);
    CHECK_EQ_INT(gi.consumers[0].inactive_ms, 1700);
    jr_group_info_free(&gi);
    jr_group_buf_destroy(b);
    jr_group_close(g);
    jr_stream_close(s);
}

TEST(group_claim_after_idle_counts)
{
    char err[256];
    jr_stream *s = open_stream(gdir("g4"), "ev", 1);
    CHECK(s && add(s, 5) == 0);
    int64_t now = 50000;
    jr_group *g = open_group(s, "g", 0, &now);
    CHECK(g);
    jr_group_buf *b = jr_group_buf_create(s);
    jr_record rec[16];
    CHECK_EQ_INT(jr_group_read(g, "alice", b, rec, 3, 0, 0, err, sizeof err), 3);
    now += 100;
    uint64_t ids[] = {1, 2, 2, 77};
    /* not idle long enough: nothing moves */
    CHECK_EQ_INT(jr_group_claim(g, "bob", 1000, ids, 4, 0, b, rec, err, sizeof err), 0);
    now += 1000;
    CHECK_EQ_INT(jr_group_claim(g, "bob", 1000, ids, 4, 0, b, rec, err, sizeof err), 2);
    CHECK(rec[0].offset == 1 && rec_ok(&rec[0]) && rec[1].offset == 2 && rec_ok(&rec[1]));
    jr_pending_entry pe[8];
    CHECK_EQ_INT(jr_group_pending(g, 0, UINT64_MAX, 8, NULL, 0, pe, err, sizeof err), 3);
    CHECK(!strcmp(pe[0].consumer, "alice") && pe[0].deliveries == 1 && pe[0].idle_ms == 1100);
    CHECK(!strcmp(pe[1].consumer, "bob") && pe[1].deliveries == 2 && pe[1].idle_ms == 0);
    /* a claim resets idle: a second claimer must wait again */
    CHECK_EQ_INT(jr_group_claim(g, "carol", 1000, ids, 2, 0, b, rec, err, sizeof err), 0);
    now += 1000;
    /* JUSTID: ownership moves, the delivery count does not */
    CHECK_EQ_INT(jr_group_claim(g, "carol", 1000, ids, 1, JR_CLAIM_JUSTID, b, rec, err,
                                sizeof err), 1);
    CHECK(rec[0].offset == 1 && rec[0].p == NULL);
    CHECK_EQ_INT(jr_group_pending(g, 1, 1, 8, NULL, 0, pe, err, sizeof err), 1);
    CHECK(!strcmp(pe[0].consumer, "carol") && pe[0].deliveries == 2);
    /* XAUTOCLAIM: scan from start in offset order, cursor continues */
    now += 5000;
    uint64_t del[4];
    jr_autoclaim_result ar;
    CHECK_EQ_INT(jr_group_autoclaim(g, "dave", 1000, 0, 2, 0, b, rec, del, &ar, err, sizeof err),
                 2);
    CHECK(rec[0].offset == 0 && rec[1].offset == 1 && rec_ok(&rec[1]));
    CHECK_EQ_INT(ar.next_start, 2);
    CHECK_EQ_INT(ar.ndeleted, 0);
    CHECK_EQ_INT(jr_group_autoclaim(g, "dave", 1000, ar.next_start, 2, 0, b, rec, del, &ar, err,
                                    sizeof err), 1);
    CHECK_EQ_INT(rec[0].offset, 2);
    CHECK_EQ_INT(ar.next_start, 0); /* scan complete */
    CHECK_EQ_INT(jr_group_pending(g, 0, UINT64_MAX, 8, NULL, 0, pe, err, sizeof err), 3);
    CHECK(!strcmp(pe[0].consumer, "dave") && pe[0].deliveries == 2);
    CHECK(!strcmp(pe[1].consumer, "dave") && pe[1].deliveries == 3);
    CHECK(!strcmp(pe[2].consumer, "dave") && pe[2].deliveries == 3);
    /* nothing idle enough now */
    CHECK_EQ_INT(jr_group_autoclaim(g, "erin", 1000, 0, 10, 0, b, rec, del, &ar, err, sizeof err),
                 0);
    jr_pending_summary ps;
    CHECK(jr_group_pending_summary(g, &ps, err, sizeof err) == 0);
    CHECK_EQ_INT(ps.nconsumers, 1); /* only consumers with pending entries */
    jr_pending_summary_free(&ps);
    jr_group_buf_destroy(b);
    jr_group_close(g);
    jr_stream_close(s);
}

TEST(group_dead_letter_after_max_deliveries)
{
    char err[256];
    jr_stream *s = open_stream(gdir("g5"), "ev", 1);
    jr_stream *dlq = open_stream(gdir("g5"), "ev.dlq", 1);
    CHECK(s && dlq && add(s, 3) == 0);
    int64_t now = 1000;
    jr_group_opts o;
    jr_group_opts_init(&o);
    o.start = 0;
    o.max_deliveries = 3;
    o.dead_letter = dlq;
    jr_group *g = jr_group_open(s, "work", &o, err, sizeof err);
    CHECK_MSG(g, "%s", err);
    jr_group_set_clock(g, fake_clock, &now);
    jr_group_buf *b = jr_group_buf_create(s);
    jr_record rec[8];
    uint64_t del[8];
    jr_autoclaim_result ar;
    CHECK_EQ_INT(jr_group_read(g, "a", b, rec, 2, 0, 0, err, sizeof err), 2); /* count 1 */
    for (int round = 2; round <= 3; round++) {
        now += 1000;
        CHECK_EQ_INT(jr_group_autoclaim(g, "b", 500, 0, 10, 0, b, rec, del, &ar, err, sizeof err),
                     2);
        CHECK_EQ_INT(ar.ndead, 0);
    }
    /* the 4th delivery would pass max_deliveries = 3: both go to the DLQ */
    now += 1000;
    CHECK_EQ_INT(jr_group_autoclaim(g, "b", 500, 0, 10, 0, b, rec, del, &ar, err, sizeof err), 0);
    CHECK_EQ_INT(ar.ndead, 2);
    jr_group_info gi;
    CHECK(jr_group_info_get(g, &gi, err, sizeof err) == 0);
    CHECK_EQ_INT(gi.pending, 0);
    CHECK_EQ_INT(gi.dead_lettered, 2);
    jr_group_info_free(&gi);
    jr_reader *r = jr_reader_create(dlq);
    jr_record d[4];
    CHECK_EQ_INT(jr_read(r, 0, d, 4, 1 << 20, err, sizeof err), 2);
    jr_dead_letter dl;
    CHECK(jr_dead_letter_parse(&d[1], &dl) == 0);
    CHECK_EQ_STR(dl.stream, "ev");
    CHECK_EQ_STR(dl.group, "work");
    CHECK_EQ_INT(dl.offset, 1);
    CHECK_EQ_INT(dl.deliveries, 4);
    CHECK_EQ_INT(dl.ts_us, 1000);
    CHECK(dl.n == 2 && !memcmp(dl.p, "r1", 2)); /* payload as-is */
    CHECK_EQ_INT(d[1].ts_us, now * 1000);
    jr_record junk = {0, 0, (const uint8_t *)"{\"x\":1}\nzz", 10};
    CHECK(jr_dead_letter_parse(&junk, &dl) == -1);
    jr_reader_destroy(r);
    /* XCLAIM dead-letters too; without a DLQ stream the entry is dropped and counted */
    o.dead_letter = NULL;
    o.max_deliveries = 1;
    jr_group *g2 = jr_group_open(s, "work", &o, err, sizeof err); /* same handle, new options */
    CHECK(g2 == g);
    jr_group_close(g2);
    CHECK_EQ_INT(jr_group_read(g, "a", b, rec, 2, 0, 0, err, sizeof err), 1);
    now += 1000;
    uint64_t two = 2;
    CHECK_EQ_INT(jr_group_claim(g, "b", 0, &two, 1, 0, b, rec, err, sizeof err), 0);
    CHECK(jr_group_info_get(g, &gi, err, sizeof err) == 0);
    CHECK_EQ_INT(gi.dead_lettered, 3);
    CHECK_EQ_INT(gi.pending, 0);
    jr_group_info_free(&gi);
    jr_info di;
    jr_stream_info(dlq, &di);
    CHECK_EQ_INT(di.next_offset, 2);
    jr_group_buf_destroy(b);
    jr_group_close(g);
    jr_stream_close(dlq);
    jr_stream_close(s);
}

TEST(group_consumer_killed_mid_work)
{
    char err[256];
    jr_stream *s = open_stream(gdir("g6"), "tasks", 0);
    CHECK(s && add(s, 30) == 0);
    int64_t now = 1700000000000;
    jr_group *g = open_group(s, "workers", 0, &now);
    CHECK(g);
    jr_group_buf *b = jr_group_buf_create(s);
    jr_record rec[64];
    uint64_t got_a[10];
    CHECK_EQ_INT(jr_group_read(g, "A", b, rec, 10, 0, 0, err, sizeof err), 10);
    for (int i = 0; i < 10; i++) got_a[i] = rec[i].offset;
    CHECK_EQ_INT(jr_group_read(g, "B", b, rec, 5, 0, 0, err, sizeof err), 5);
    uint64_t bo[5];
    for (int i = 0; i < 5; i++) bo[i] = rec[i].offset;
    CHECK_EQ_INT(jr_group_ack(g, bo, 5, err, sizeof err), 5);
    /* A dies: the process goes away without acking */
    jr_group_buf_destroy(b);
    jr_group_close(g);
    jr_stream_close(s);
    s = open_stream(gdir("g6"), "tasks", 0);
    CHECK(s);
    now += 10000;
    g = open_group(s, "workers", JR_GROUP_START_NEW, &now); /* exists: start ignored */
    CHECK(g);
    b = jr_group_buf_create(s);
    uint64_t del[64];
    jr_autoclaim_result ar;
    /* not idle long enough yet */
    CHECK_EQ_INT(jr_group_autoclaim(g, "B", 30000, 0, 64, 0, b, rec, del, &ar, err, sizeof err),
                 0);
    now += 30000;
    CHECK_EQ_INT(jr_group_autoclaim(g, "B", 30000, 0, 64, 0, b, rec, del, &ar, err, sizeof err),
                 10);
    for (int i = 0; i < 10; i++) CHECK(rec[i].offset == got_a[i] && rec_ok(&rec[i]));
    CHECK_EQ_INT(ar.next_start, 0);
    /* A comes back late and acks part of its old work: XACK ignores ownership */
    CHECK_EQ_INT(jr_group_ack(g, got_a, 3, err, sizeof err), 3);
    CHECK_EQ_INT(jr_group_ack(g, got_a, 10, err, sizeof err), 7);
    /* new work continues where the group left off */
    CHECK_EQ_INT(jr_group_read(g, "B", b, rec, 64, 0, 0, err, sizeof err), 15);
    CHECK_EQ_INT(rec[0].offset, 15);
    jr_group_buf_destroy(b);
    jr_group_close(g);
    jr_stream_close(s);
}

/* Whole PEL + info as text, for before/after comparisons. */
static void dump_state(jr_group *g, char *out, size_t n)
{
    char err[256];
    jr_pending_entry *pe = malloc(4096 * sizeof *pe);
    int k = jr_group_pending(g, 0, UINT64_MAX, 4096, NULL, 0, pe, err, sizeof err);
    size_t used = 0;
    jr_group_info gi;
    jr_group_info_get(g, &gi, err, sizeof err);
    used += (size_t)snprintf(out + used, n - used, "next=%" PRIu64 " read=%" PRIu64 " pend=%"
                             PRIu64 " acked=%" PRIu64 " dead=%" PRIu64 " cons=%d;",
                             gi.next_deliver, gi.entries_read, gi.pending, gi.acked,
                             gi.dead_lettered, gi.nconsumers);
    for (int i = 0; i < gi.nconsumers && used < n; i++)
        used += (size_t)snprintf(out + used, n - used, "%s:%" PRIu64 ":%" PRId64 ",",
                                 gi.consumers[i].name, gi.consumers[i].pending,
                                 gi.consumers[i].inactive_ms);
    for (int i = 0; i < k && used < n; i++)
        used += (size_t)snprintf(out + used, n - used, "%" PRIu64 "/%s/%" PRId64 "/%u ",
                                 pe[i].offset, pe[i].consumer, pe[i].idle_ms, pe[i].deliveries);
    jr_group_info_free(&gi);
    free(pe);
}

TEST(group_state_survives_restart_and_compaction)
{
    char err[256];
    static char before[1 << 16], after[1 << 16];
    jr_stream *s = open_stream(gdir("g7"), "ev", 1);
    CHECK(s && add(s, 400) == 0);
    int64_t now = 5000;
    jr_group_opts o;
    jr_group_opts_init(&o);
    o.start = 0;
    o.compact_min_bytes = 2048; /* compact often */
    jr_group *g = jr_group_open(s, "g", &o, err, sizeof err);
    CHECK_MSG(g, "%s", err);
    jr_group_set_clock(g, fake_clock, &now);
    jr_group_buf *b = jr_group_buf_create(s);
    jr_record rec[64];
    uint64_t del[64];
    jr_autoclaim_result ar;
    const char *names[] = {"c1", "c2", "c3", "c4"};
    uint64_t last_log = 0;
    int compactions = 0;
    for (int round = 0; round < 40; round++) {
        now += 7;
        int n = jr_group_read(g, names[round % 4], b, rec, 9, 0, 0, err, sizeof err);
        CHECK_MSG(n >= 0, "%s", err);
        uint64_t acks[9];
        int k = 0;
        for (int i = 1; i < n; i++) acks[k++] = rec[i].offset; /* all but the first */
        CHECK(jr_group_ack(g, acks, k, err, sizeof err) == k);
        if (round % 5 == 4)
            CHECK(jr_group_autoclaim(g, names[(round + 1) % 4], 20, 0, 3, 0, b, rec, del, &ar,
                                     err, sizeof err) >= 0);
        jr_group_info gi;
        jr_group_info_get(g, &gi, err, sizeof err);
        if (gi.log_bytes < last_log) compactions++;
        last_log = gi.log_bytes;
        jr_group_info_free(&gi);
    }
    CHECK(jr_group_delconsumer(g, "c3", err, sizeof err) > 0);
    CHECK_EQ_INT(jr_group_delconsumer(g, "zz", err, sizeof err), 0);
    CHECK(jr_group_setid(g, 300, err, sizeof err) == 0);
    jr_group_info gi;
    jr_group_info_get(g, &gi, err, sizeof err);
    CHECK(compactions >= 2); /* the log was compacted along the way */
    CHECK_EQ_INT(gi.nconsumers, 3);
    jr_group_info_free(&gi);
    dump_state(g, before, sizeof before);
    jr_group_buf_destroy(b);
    jr_group_close(g);
    jr_stream_close(s);
    s = open_stream(gdir("g7"), "ev", 1);
    CHECK(s);
    g = jr_group_open(s, "g", &o, err, sizeof err);
    CHECK_MSG(g, "%s", err);
    jr_group_set_clock(g, fake_clock, &now);
    dump_state(g, after, sizeof after);
    CHECK_EQ_STR(after, before);
    /* and again after an explicit small log (reads continue correctly) */
    b = jr_group_buf_create(s);
    CHECK_EQ_INT(jr_group_read(g, "c1", b, rec, 5, 0, 0, err, sizeof err), 5);
    CHECK_EQ_INT(rec[0].offset, 300);
    jr_group_buf_destroy(b);
    dump_state(g, before, sizeof before);
    jr_group_close(g);
    g = jr_group_open(s, "g", &o, err, sizeof err);
    CHECK_MSG(g, "%s", err);
    jr_group_set_clock(g, fake_clock, &now);
    dump_state(g, after, sizeof after);
    CHECK_EQ_STR(after, before);
    jr_group_close(g);
    jr_stream_close(s);
}

TEST(group_torn_log_tail)
{
    char err[256], path[700];
    static char before[8192], after[8192];
    jr_stream *s = open_stream(gdir("g8"), "ev", 1);
    CHECK(s && add(s, 10) == 0);
    int64_t now = 100;
    jr_group *g = open_group(s, "g", 0, &now);
    CHECK(g);
    jr_group_buf *b = jr_group_buf_create(s);
    jr_record rec[16];
    CHECK_EQ_INT(jr_group_read(g, "a", b, rec, 5, 0, 0, err, sizeof err), 5);
    dump_state(g, before, sizeof before);
    snprintf(path, sizeof path, "%s/ev/groups/g.log", gdir("g8"));
    struct stat st;
    CHECK(stat(path, &st) == 0);
    off_t size_before_ack = st.st_size;
    uint64_t acks[] = {0, 1};
    CHECK_EQ_INT(jr_group_ack(g, acks, 2, err, sizeof err), 2);
    jr_group_close(g);
    /* the ACK op was torn by a crash: cut its last 3 bytes */
    CHECK(stat(path, &st) == 0);
    CHECK(truncate(path, st.st_size - 3) == 0);
    g = open_group(s, "g", 0, &now);
    CHECK(g);
    jr_group_info gi;
    jr_group_info_get(g, &gi, err, sizeof err);
    CHECK_EQ_INT(gi.recovered_bytes, st.st_size - 3 - size_before_ack);
    CHECK_EQ_INT(gi.log_bytes, size_before_ack);
    jr_group_info_free(&gi);
    dump_state(g, after, sizeof after);
    CHECK_EQ_STR(after, before); /* the torn ack is gone, as if never made */
    CHECK_EQ_INT(jr_group_ack(g, acks, 2, err, sizeof err), 2);
    jr_group_close(g);
    /* garbage after the last op (and a flipped CRC would read the same) */
    int fd = open(path, O_WRONLY | O_APPEND);
    CHECK(fd >= 0);
    CHECK(write(fd, "\x10\x00\x00\x00garbage!", 12) == 12);
    close(fd);
    g = open_group(s, "g", 0, &now);
    CHECK(g);
    jr_group_info_get(g, &gi, err, sizeof err);
    CHECK_EQ_INT(gi.recovered_bytes, 12);
    CHECK_EQ_INT(gi.pending, 3);
    jr_group_info_free(&gi);
    CHECK_EQ_INT(jr_group_read(g, "a", b, rec, 16, 0, 0, err, sizeof err), 5);
    CHECK_EQ_INT(rec[0].offset, 5);
    jr_group_close(g);
    /* not a group log at all: a clear error, never a silent reset */
    fd = open(path, O_WRONLY | O_TRUNC);
    CHECK(fd >= 0 && write(fd, "NOTAGRPLOG", 10) == 10);
    close(fd);
    CHECK(!jr_group_open(s, "g", NULL, err, sizeof err));
    CHECK(strstr(err, "not a group log") && strstr(err, "ev"));
    jr_group_buf_destroy(b);
    jr_stream_close(s);
}

TEST(group_two_groups_independent_and_list)
{
    char err[256];
    jr_stream *s = open_stream(gdir("g9"), "ev", 1);
    CHECK(s && add(s, 6) == 0);
    jr_group *g1 = open_group(s, "sink", 0, NULL);
    jr_group *g2 = open_group(s, "alerts", 0, NULL);
    CHECK(g1 && g2);
    jr_group_buf *b = jr_group_buf_create(s);
    jr_record rec[16];
    CHECK_EQ_INT(jr_group_read(g1, "w", b, rec, 16, 0, 0, err, sizeof err), 6);
    uint64_t all[6] = {0, 1, 2, 3, 4, 5};
    CHECK_EQ_INT(jr_group_ack(g1, all, 6, err, sizeof err), 6);
    CHECK_EQ_INT(jr_group_read(g2, "w", b, rec, 4, 0, 0, err, sizeof err), 4);
    CHECK_EQ_INT(rec[0].offset, 0); /* g1's reads and acks do not touch g2 */
    CHECK_EQ_INT(jr_group_ack(g2, all, 2, err, sizeof err), 2);
    jr_group_close(g2);
    /* a group on disk but not open is listed too */
    jr_group_info *l;
    int n;
    CHECK(jr_group_list(s, &l, &n, err, sizeof err) == 0);
    CHECK_EQ_INT(n, 2);
    CHECK_EQ_STR(l[0].name, "alerts");
    CHECK_EQ_INT(l[0].pending, 2);
    CHECK_EQ_INT(l[0].lag, 2);
    CHECK_EQ_STR(l[1].name, "sink");
    CHECK_EQ_INT(l[1].pending, 0);
    CHECK_EQ_INT(l[1].lag, 0);
    jr_group_list_free(l, n);
    /* destroy: refused while open, works when closed */
    CHECK(jr_group_destroy(s, "sink", err, sizeof err) == -1);
    CHECK(strstr(err, "open"));
    CHECK_EQ_INT(jr_group_destroy(s, "alerts", err, sizeof err), 1);
    CHECK_EQ_INT(jr_group_destroy(s, "alerts", err, sizeof err), 0);
    CHECK(jr_group_list(s, &l, &n, err, sizeof err) == 0);
    CHECK_EQ_INT(n, 1);
    jr_group_list_free(l, n);
    jr_group_buf_destroy(b);
    jr_group_close(g1);
    jr_stream_close(s);
}

TEST(group_retention_deletes_pending)
{
    char err[256];
    jr_opts so;
    jr_opts_init(&so);
    so.segment_bytes = 1024;
    so.retention_bytes = 4096;
    so.fsync = JR_FSYNC_NEVER;
    jr_stream *s = jr_stream_open(gdir("g10"), "ev", &so, err, sizeof err);
    CHECK_MSG(s, "%s", err);
    for (int i = 0; i < 100; i++) CHECK(add(s, 1) == 0); /* ~36 records a segment */
    int64_t now = 1000;
    jr_group *g = open_group(s, "g", 0, &now);
    CHECK(g);
    jr_group_buf *b = jr_group_buf_create(s);
    jr_record rec[128];
    CHECK_EQ_INT(jr_group_read(g, "a", b, rec, 100, 0, 0, err, sizeof err), 100);
    for (int i = 0; i < 100; i++) CHECK(add(s, 1) == 0); /* retention drops old segments */
    jr_info info;
    jr_stream_info(s, &info);
    CHECK(info.first_offset > 0 && info.first_offset < 100);
    uint64_t gone = info.first_offset;
    /* history read: deleted entries come back as ids without a body */
    CHECK_EQ_INT(jr_group_read_pending(g, "a", b, 0, rec, 128, err, sizeof err), 100);
    CHECK(rec[0].offset == 0 && rec[0].p == NULL && rec[0].n == 0);
    CHECK(rec[gone].offset == gone && rec_ok(&rec[gone]));
    now += 1000;
    uint64_t del[128];
    jr_autoclaim_result ar;
    int n = jr_group_autoclaim(g, "b", 100, 0, 128, 0, b, rec, del, &ar, err, sizeof err);
    CHECK_EQ_INT(n, 100 - (int)gone);
    CHECK_EQ_INT(ar.ndeleted, gone);
    for (uint64_t i = 0; i < gone; i++) CHECK_EQ_INT(del[i], i);
    CHECK(rec[0].offset == gone && rec_ok(&rec[0]));
    jr_group_info gi;
    jr_group_info_get(g, &gi, err, sizeof err);
    CHECK_EQ_INT(gi.deleted, gone);
    CHECK_EQ_INT(gi.pending, 100 - gone);
    jr_group_info_free(&gi);
    /* a new group from 0 starts at the oldest retained record */
    jr_group *g2 = open_group(s, "late", 0, NULL);
    CHECK(g2);
    CHECK_EQ_INT(jr_group_read(g2, "x", b, rec, 1, 0, 0, err, sizeof err), 1);
    CHECK_EQ_INT(rec[0].offset, gone);
    jr_group_close(g2);
    jr_group_buf_destroy(b);
    jr_group_close(g);
    jr_stream_close(s);
}

TEST(group_limits_and_errors)
{
    char err[256];
    jr_stream *s = open_stream(gdir("g11"), "ev", 1);
    jr_stream *other = open_stream(gdir("g11"), "other", 1);
    CHECK(s && other && add(s, 10) == 0);
    CHECK(!jr_group_open(s, "../x", NULL, err, sizeof err));
    CHECK(strstr(err, "not valid"));
    CHECK(!jr_group_open(s, ".hidden", NULL, err, sizeof err));
    jr_group_opts o;
    jr_group_opts_init(&o);
    o.no_create = 1;
    CHECK(!jr_group_open(s, "nope", &o, err, sizeof err));
    CHECK(strstr(err, "no such group") && strstr(err, "nope"));
    jr_group_opts_init(&o);
    o.dead_letter = s;
    CHECK(!jr_group_open(s, "g", &o, err, sizeof err));
    jr_group_opts_init(&o);
    o.max_pending = JR_GROUP_MAX_PENDING_CAP + 1;
    CHECK(!jr_group_open(s, "g", &o, err, sizeof err));
    CHECK(strstr(err, "hard cap"));
    jr_group_opts_init(&o);
    o.start = 0;
    o.max_pending = 4;
    jr_group *g = jr_group_open(s, "g", &o, err, sizeof err);
    CHECK_MSG(g, "%s", err);
    /* the log is locked: a second opener (another process, or here another
     * handle of the same stream) gets a clear error */
    jr_stream *s2 = open_stream(gdir("g11"), "ev", 1);
    CHECK(s2);
    CHECK(!jr_group_open(s2, "g", NULL, err, sizeof err));
    CHECK(strstr(err, "locked"));
    jr_stream_close(s2);
    jr_group_buf *b = jr_group_buf_create(s), *ob = jr_group_buf_create(other);
    jr_record rec[16];
    CHECK_EQ_INT(jr_group_read(g, "a", b, rec, 10, 0, 0, err, sizeof err), 4); /* up to the cap */
    CHECK_EQ_INT(jr_group_read(g, "a", b, rec, 10, 0, 0, err, sizeof err), -1);
    CHECK(strstr(err, "max_pending") && strstr(err, "group g"));
    uint64_t one = 1;
    CHECK_EQ_INT(jr_group_ack(g, &one, 1, err, sizeof err), 1);
    CHECK_EQ_INT(jr_group_read(g, "a", b, rec, 10, 0, 0, err, sizeof err), 1);
    CHECK_EQ_INT(jr_group_read(g, "bad name", b, rec, 1, 0, 0, err, sizeof err), -1);
    CHECK(strstr(err, "consumer name"));
    CHECK_EQ_INT(jr_group_read(g, "a", ob, rec, 1, 0, 0, err, sizeof err), -1);
    CHECK_EQ_INT(jr_group_read(g, "a", b, rec, JR_GROUP_MAX_COUNT + 1, 0, 0, err, sizeof err), -1);
    jr_group_buf_destroy(b);
    jr_group_buf_destroy(ob);
    jr_group_close(g);
    jr_group_close(NULL);
    jr_stream_close(other);
    jr_stream_close(s);
}

typedef struct {
    jr_group *g;
    jr_stream *s;
    char name[16];
    uint8_t *seen; /* per offset, shared; each offset written by one thread */
    int ok;
} worker_arg;

static void *worker(void *p)
{
    worker_arg *a = p;
    char err[256];
    jr_group_buf *b = jr_group_buf_create(a->s);
    jr_record rec[200];
    uint64_t offs[200];
    a->ok = 1;
    for (;;) {
        int n = jr_group_read(a->g, a->name, b, rec, 200, 0, 0, err, sizeof err);
        if (n < 0) {
            printf("  %s: %s\n", a->name, err);
            a->ok = 0;
            break;
        }
        if (n == 0) break;
        for (int i = 0; i < n; i++) {
            if (!rec_ok(&rec[i])) a->ok = 0;
            a->seen[rec[i].offset]++;
            offs[i] = rec[i].offset;
        }
        if (jr_group_ack(a->g, offs, n, err, sizeof err) != n) a->ok = 0;
    }
    jr_group_buf_destroy(b);
    return NULL;
}

TEST(group_concurrent_consumers_throughput)
{
    char err[256];
    enum { N = 40000, T = 4 };
    jr_stream *s = open_stream(gdir("g12"), "ev", 1);
    CHECK(s);
    for (int i = 0; i < N / 10000; i++) CHECK(add(s, 10000) == 0);
    jr_group_opts o;
    jr_group_opts_init(&o);
    o.start = 0;
    o.compact_min_bytes = 64 << 10;
    jr_group *g = jr_group_open(s, "g", &o, err, sizeof err);
    CHECK_MSG(g, "%s", err);
    uint8_t *seen = calloc(N, 1);
    pthread_t th[T];
    worker_arg a[T];
    uint64_t t0 = 0;
    {
        struct timespec ts;
        clock_gettime(CLOCK_MONOTONIC, &ts);
        t0 = (uint64_t)ts.tv_sec * 1000000000ull + (uint64_t)ts.tv_nsec;
    }
    for (int t = 0; t < T; t++) {
        a[t] = (worker_arg){g, s, "", seen, 0};
        snprintf(a[t].name, sizeof a[t].name, "w%d", t);
        pthread_create(&th[t], NULL, worker, &a[t]);
    }
    for (int t = 0; t < T; t++) pthread_join(th[t], NULL);
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    uint64_t ns = (uint64_t)ts.tv_sec * 1000000000ull + (uint64_t)ts.tv_nsec - t0;
    printf("  %d records read+acked by %d consumers in %.0f ms (%.0f/s)\n", N, T, ns / 1e6,
           N / (ns / 1e9));
    for (int t = 0; t < T; t++) CHECK(a[t].ok);
    for (int i = 0; i < N; i++) CHECK_MSG(seen[i] == 1, "offset %d delivered %d times", i, seen[i]);
    jr_group_info gi;
    jr_group_info_get(g, &gi, err, sizeof err);
    CHECK_EQ_INT(gi.pending, 0);
    CHECK_EQ_INT(gi.acked, N);
    CHECK(gi.log_bytes < (128 << 10)); /* compacted along the way */
    jr_group_info_free(&gi);
    free(seen);
    jr_group_close(g);
    /* reopening replays a compacted log to the same empty PEL */
    g = jr_group_open(s, "g", &o, err, sizeof err);
    CHECK_MSG(g, "%s", err);
    jr_group_info_get(g, &gi, err, sizeof err);
    CHECK_EQ_INT(gi.pending, 0);
    CHECK_EQ_INT(gi.entries_read, N);
    jr_group_info_free(&gi);
    jr_group_close(g);
    jr_stream_close(s);
}

/* lazy_sync_ms: ops are written at once, so a process that dies without
 * closing (no sync at close) loses none of them; a reopen sees every read
 * and ack. */
TEST(group_lazy_sync_ops_survive_a_killed_process)
{
    const char *dir = gdir("lazy");
    jr_stream *s = open_stream(dir, "ev", 0);
    CHECK(s && add(s, 6) == 0);
    fflush(stdout);
    pid_t pid = fork();
    if (pid == 0) {
        char err[256];
        jr_group_opts o;
        jr_group_opts_init(&o);
        o.start = 0;
        o.lazy_sync_ms = 60000;
        jr_group *g = jr_group_open(s, "g", &o, err, sizeof err);
        jr_group_buf *b = jr_group_buf_create(s);
        jr_record r[6];
        int n = g ? jr_group_read(g, "c1", b, r, 6, 0, 0, err, sizeof err) : -1;
        uint64_t acks[3] = {0, 1, 2};
        int a = n == 6 ? jr_group_ack(g, acks, 3, err, sizeof err) : -1;
        _exit(a == 3 ? 0 : 1); /* no close: nothing synced at the end */
    }
    int st = 0;
    waitpid(pid, &st, 0);
    CHECK(WIFEXITED(st) && WEXITSTATUS(st) == 0);
    jr_stream_close(s);
    s = open_stream(dir, "ev", 0);
    jr_group *g = open_group(s, "g", 0, NULL);
    CHECK(g != NULL);
    jr_pending_summary sum;
    char err[256];
    CHECK(g && jr_group_pending_summary(g, &sum, err, sizeof err) == 0);
    CHECK_EQ_INT((int)sum.count, 3); /* 6 delivered, 3 acked */
    CHECK(sum.count == 0 || sum.min == 3);
    jr_pending_summary_free(&sum);
    jr_group_close(g);
    jr_stream_close(s);
}

/* jr_group_sync: a lazy group's written ops are synced on demand (an idle
 * consumer calls it); nothing to do for a group that syncs every op. */
TEST(group_sync_on_demand)
{
    char err[256];
    const char *dir = gdir("gsync");
    jr_stream *s = open_stream(dir, "ev", 0);
    CHECK(s && add(s, 3) == 0);
    jr_group_opts o;
    jr_group_opts_init(&o);
    o.start = 0;
    o.lazy_sync_ms = 60000;
    jr_group *g = jr_group_open(s, "g", &o, err, sizeof err);
    CHECK_MSG(g, "%s", err);
    jr_group_buf *b = jr_group_buf_create(s);
    jr_record r[3];
    CHECK(jr_group_read(g, "c1", b, r, 3, 0, 0, err, sizeof err) == 3);
    uint64_t a[2] = {0, 1};
    CHECK(jr_group_ack(g, a, 2, err, sizeof err) == 2); /* written, not synced (lazy) */
    CHECK_MSG(jr_group_sync(g, err, sizeof err) == 0, "%s", err);
    CHECK(jr_group_sync(g, err, sizeof err) == 0); /* nothing dirty: a no-op */
    jr_group_buf_destroy(b);
    jr_group_close(g);
    jr_group *g2 = open_group(s, "g", 0, NULL);
    jr_pending_summary sum;
    CHECK(g2 && jr_group_pending_summary(g2, &sum, err, sizeof err) == 0);
    CHECK_EQ_INT((int)sum.count, 1);
    jr_pending_summary_free(&sum);
    jr_group_close(g2);
    jr_stream_close(s);
}
