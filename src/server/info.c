/* GET /v1/streams (with the journals' disk), /v1/streams/{stream} and /metrics. */
#include "server/sv_int.h"

#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/statvfs.h>
#include <time.h>

/* "groups":[...] of a stream: consumer groups with lag, pending, consumers. */
static void groups_json(sv__stream *st, ut_buf *b)
{
    jr_group_info *gi = NULL;
    int n = 0;
    char err[256];
    ut_buf_puts(b, ",\"groups\":[");
    if (jr_group_list(st->jr, &gi, &n, err, sizeof err) == 0) {
        for (int i = 0; i < n; i++) {
            const jr_group_info *g = &gi[i];
            ut_buf_printf(b, "%s{\"name\":", i ? "," : "");
            ut_json_str(b, g->name, strlen(g->name));
            ut_buf_printf(b, ",\"last_delivered\":%lld,\"lag\":%llu,\"pending\":%llu,"
                             "\"acked\":%llu,\"dead_lettered\":%llu,\"consumers\":[",
                          (long long)g->last_delivered, (unsigned long long)g->lag,
                          (unsigned long long)g->pending, (unsigned long long)g->acked,
                          (unsigned long long)g->dead_lettered);
            for (int c = 0; c < g->nconsumers; c++) {
                ut_buf_printf(b, "%s{\"name\":", c ? "," : "");
                ut_json_str(b, g->consumers[c].name, strlen(g->consumers[c].name));
                ut_buf_printf(b, ",\"pending\":%llu,\"idle_ms\":%lld}",
                              (unsigned long long)g->consumers[c].pending,
                              (long long)g->consumers[c].idle_ms);
            }
            ut_buf_puts(b, "]}");
        }
        jr_group_list_free(gi, n);
    }
    ut_buf_putc(b, ']');
}

static void stream_json(sv__stream *st, ut_buf *b, int with_groups)
{
    jr_info in;
    jr_stream_info(st->jr, &in);
    ut_buf_puts(b, "{\"name\":");
    ut_json_str(b, st->name, strlen(st->name));
    ut_buf_puts(b, ",\"table\":"); /* the lake table its sink lands, null: no sink */
    if (st->sink) ut_json_str(b, st->table, strlen(st->table));
    else ut_buf_puts(b, "null");
    ut_buf_printf(b, ",\"first_offset\":%llu,\"next_offset\":%llu,\"records\":%llu,"
                     "\"bytes\":%llu,\"segments\":%d,\"auth\":%s,\"records_in\":%llu,"
                     "\"bytes_in\":%llu,\"dropped\":%llu,\"rejected\":{",
                  (unsigned long long)in.first_offset, (unsigned long long)in.next_offset,
                  (unsigned long long)(in.next_offset - in.first_offset),
                  (unsigned long long)in.bytes, in.segments, st->ntokens ? "true" : "false",
                  (unsigned long long)__atomic_load_n(&st->records_in, __ATOMIC_RELAXED),
                  (unsigned long long)__atomic_load_n(&st->bytes_in, __ATOMIC_RELAXED),
                  (unsigned long long)__atomic_load_n(&st->dropped, __ATOMIC_RELAXED));
    for (int r = 0; r < SV_REJ_COUNT; r++)
        ut_buf_printf(b, "%s\"%s\":%llu", r ? "," : "", sv_reject_name((sv_reject)r),
                      (unsigned long long)__atomic_load_n(&st->rejects[r], __ATOMIC_RELAXED));
    ut_buf_putc(b, '}');
    ut_buf_printf(b, ",\"recovery\":{\"torn_bytes\":%llu,\"damaged_bytes\":%llu,"
                     "\"lost_records\":%llu,\"reserved_from\":%llu}",
                  (unsigned long long)in.recovered_bytes, (unsigned long long)in.damaged_bytes,
                  (unsigned long long)in.lost_records, (unsigned long long)in.reserved_from);
    if (st->sink) {
        lk_sink_stats k;
        lk_sink_get_stats(st->sink, &k);
        char lag[32];
        if (k.past_end) /* never "lag 0": the lag is unknown, the sink is stopped */
            snprintf(lag, sizeof lag, "null");
        else
            snprintf(lag, sizeof lag, "%llu",
                     (unsigned long long)(in.next_offset > k.position ? in.next_offset - k.position : 0));
        ut_buf_printf(b, ",\"sink\":{\"position\":%llu,\"lag\":%s,\"landed\":%llu,"
                         "\"errored\":%llu,\"files\":%llu,\"bytes\":%llu,\"buffered\":%llu,"
                         "\"open_partitions\":%d,\"columns\":%d,\"schema_version\":%d,"
                         "\"last_commit_lag_ms\":%.1f,\"compacted_files\":%llu,\"retries\":%llu,"
                         "\"retry_backoff_ms\":%lld,\"last_error\":",
                      (unsigned long long)k.position, lag,
                      (unsigned long long)k.records_landed, (unsigned long long)k.records_errored,
                      (unsigned long long)k.files_committed, (unsigned long long)k.bytes_committed,
                      (unsigned long long)k.buffered_records, k.open_partitions, k.columns,
                      k.schema_version, (double)k.last_commit_lag_us / 1000,
                      (unsigned long long)k.files_compacted, (unsigned long long)k.retries,
                      (long long)k.retry_backoff_ms);
        ut_json_str(b, k.last_error, strlen(k.last_error));
        if (k.past_end)
            ut_buf_printf(b, ",\"state\":\"stopped\",\"error\":\"position past the stream's end "
                             "(the journal lost records)\",\"stream_end\":%llu}",
                          (unsigned long long)k.stream_end);
        else
            ut_buf_puts(b, ",\"state\":\"running\"}");
    }
    if (with_groups) groups_json(st, b);
    ut_buf_putc(b, '}');
}

/* Free and total bytes of the file system holding the journals: 0, or -1. */
static int disk_space(sv_server *s, uint64_t *free_b, uint64_t *total_b)
{
    struct statvfs v;
    if (statvfs(s->streams_dir, &v)) return -1;
    *free_b = (uint64_t)v.f_bavail * v.f_frsize;
    *total_b = (uint64_t)v.f_blocks * v.f_frsize;
    return 0;
}

/* ,"disk":{...}: the journals' file system and what ingest needs free. */
static void disk_json(sv_server *s, int n, ut_buf *out)
{
    uint64_t journals = 0, free_b = 0, total_b = 0;
    for (int i = 0; i < n; i++) {
        jr_info in;
        jr_stream_info(s->streams[i]->jr, &in);
        journals += in.bytes;
    }
    if (disk_space(s, &free_b, &total_b)) {
        ut_buf_puts(out, ",\"disk\":null");
        return;
    }
    ut_buf_printf(out, ",\"disk\":{\"free_bytes\":%llu,\"total_bytes\":%llu,"
                       "\"min_free_bytes\":%llu,\"journal_bytes\":%llu}",
                  (unsigned long long)free_b, (unsigned long long)total_b,
                  (unsigned long long)s->o.min_free_disk, (unsigned long long)journals);
}

void sv__info_streams(sv_server *s, ut_buf *out)
{
    pthread_mutex_lock(&s->mu);
    int n = s->nstreams;
    pthread_mutex_unlock(&s->mu);
    ut_buf_puts(out, "{\"streams\":[");
    for (int i = 0; i < n; i++) {
        if (i) ut_buf_putc(out, ',');
        stream_json(s->streams[i], out, 1);
    }
    ut_buf_putc(out, ']');
    disk_json(s, n, out);
    ut_buf_puts(out, "}\n");
}

int sv__info_stream(sv_server *s, const char *name, ut_buf *out)
{
    ut_error e = {0};
    sv__stream *st = sv__stream_get(s, name, 0, &e);
    if (!st) return -1;
    stream_json(st, out, 1);
    ut_buf_putc(out, '\n');
    return 0;
}

static void help(ut_buf *b, const char *name, const char *type, const char *text)
{
    ut_buf_printf(b, "# HELP %s %s\n# TYPE %s %s\n", name, text, name, type);
}

void sv__metrics(sv_server *s, ut_buf *b)
{
    pthread_mutex_lock(&s->mu);
    int n = s->nstreams;
    pthread_mutex_unlock(&s->mu);
    help(b, "sluice_ingest_records_total", "counter", "Records accepted into a stream.");
    for (int i = 0; i < n; i++)
        ut_buf_printf(b, "sluice_ingest_records_total{stream=\"%s\"} %llu\n", s->streams[i]->name,
                      (unsigned long long)__atomic_load_n(&s->streams[i]->records_in, __ATOMIC_RELAXED));
    help(b, "sluice_ingest_bytes_total", "counter", "Record bytes accepted into a stream.");
    for (int i = 0; i < n; i++)
        ut_buf_printf(b, "sluice_ingest_bytes_total{stream=\"%s\"} %llu\n", s->streams[i]->name,
                      (unsigned long long)__atomic_load_n(&s->streams[i]->bytes_in, __ATOMIC_RELAXED));
    help(b, "sluice_stream_dropped_total", "counter",
         "Records the stream's transform dropped (acknowledged, not stored).");
    for (int i = 0; i < n; i++)
        ut_buf_printf(b, "sluice_stream_dropped_total{stream=\"%s\"} %llu\n", s->streams[i]->name,
                      (unsigned long long)__atomic_load_n(&s->streams[i]->dropped, __ATOMIC_RELAXED));
    help(b, "sluice_ingest_requests_total", "counter", "Ingest requests per stream.");
    for (int i = 0; i < n; i++)
        ut_buf_printf(b, "sluice_ingest_requests_total{stream=\"%s\"} %llu\n", s->streams[i]->name,
                      (unsigned long long)__atomic_load_n(&s->streams[i]->requests, __ATOMIC_RELAXED));
    help(b, "sluice_ingest_rejected_total", "counter", "Records rejected, by reason.");
    for (int i = 0; i < n; i++)
        for (int r = 0; r < SV_REJ_COUNT; r++)
            ut_buf_printf(b, "sluice_ingest_rejected_total{stream=\"%s\",reason=\"%s\"} %llu\n",
                          s->streams[i]->name, sv_reject_name((sv_reject)r),
                          (unsigned long long)__atomic_load_n(&s->streams[i]->rejects[r],
                                                              __ATOMIC_RELAXED));
    help(b, "sluice_http_responses_total", "counter", "HTTP responses by status class.");
    for (int k = 1; k <= 5; k++)
        ut_buf_printf(b, "sluice_http_responses_total{code=\"%dxx\"} %llu\n", k,
                      (unsigned long long)__atomic_load_n(&s->http_codes[k], __ATOMIC_RELAXED));
    help(b, "sluice_http_slow_clients_cut_total", "counter",
         "Connections closed because their request headers did not arrive in time.");
    pthread_mutex_lock(&s->watch_mu);
    ut_buf_printf(b, "sluice_http_slow_clients_cut_total %llu\n", (unsigned long long)s->slow_cut);
    pthread_mutex_unlock(&s->watch_mu);
    help(b, "sluice_query_running", "gauge", "POST /v1/query requests running.");
    ut_buf_printf(b, "sluice_query_running %d\n", __atomic_load_n(&s->queries, __ATOMIC_RELAXED));
    help(b, "sluice_journal_bytes", "gauge", "Bytes on disk in a stream's journal.");
    jr_info *in = ut_calloc((size_t)n + 1, sizeof *in);
    for (int i = 0; i < n; i++) jr_stream_info(s->streams[i]->jr, &in[i]);
    for (int i = 0; i < n; i++)
        ut_buf_printf(b, "sluice_journal_bytes{stream=\"%s\"} %llu\n", s->streams[i]->name,
                      (unsigned long long)in[i].bytes);
    help(b, "sluice_journal_next_offset", "gauge", "Offset the next record will get.");
    for (int i = 0; i < n; i++)
        ut_buf_printf(b, "sluice_journal_next_offset{stream=\"%s\"} %llu\n", s->streams[i]->name,
                      (unsigned long long)in[i].next_offset);
    help(b, "sluice_journal_segments", "gauge", "Segment files in a stream's journal.");
    for (int i = 0; i < n; i++)
        ut_buf_printf(b, "sluice_journal_segments{stream=\"%s\"} %d\n", s->streams[i]->name,
                      in[i].segments);
    help(b, "sluice_journal_fsync_seconds", "histogram", "fdatasync latency of group commits.");
    for (int i = 0; i < n; i++) {
        uint64_t cum = 0;
        for (int k = 0; k < JR_SYNC_BUCKETS; k++) {
            cum += in[i].sync_hist[k];
            if (k < JR_SYNC_BUCKETS - 1)
                ut_buf_printf(b, "sluice_journal_fsync_seconds_bucket{stream=\"%s\",le=\"%g\"} %llu\n",
                              s->streams[i]->name, (double)jr_sync_bucket_us[k] / 1e6,
                              (unsigned long long)cum);
            else
                ut_buf_printf(b, "sluice_journal_fsync_seconds_bucket{stream=\"%s\",le=\"+Inf\"} %llu\n",
                              s->streams[i]->name, (unsigned long long)cum);
        }
        ut_buf_printf(b, "sluice_journal_fsync_seconds_sum{stream=\"%s\"} %.6f\n",
                      s->streams[i]->name, (double)in[i].sync_ns_total / 1e9);
        ut_buf_printf(b, "sluice_journal_fsync_seconds_count{stream=\"%s\"} %llu\n",
                      s->streams[i]->name, (unsigned long long)in[i].syncs);
    }
    help(b, "sluice_journal_group_commits_total", "counter", "Group commits (one write each).");
    for (int i = 0; i < n; i++)
        ut_buf_printf(b, "sluice_journal_group_commits_total{stream=\"%s\"} %llu\n",
                      s->streams[i]->name, (unsigned long long)in[i].appends);
    help(b, "sluice_journal_damaged_bytes", "gauge",
         "Damaged journal bytes skipped by recovery (segments read so far).");
    for (int i = 0; i < n; i++)
        ut_buf_printf(b, "sluice_journal_damaged_bytes{stream=\"%s\"} %llu\n",
                      s->streams[i]->name, (unsigned long long)in[i].damaged_bytes);
    help(b, "sluice_journal_lost_records", "gauge",
         "Acknowledged records lost in damaged journal bytes.");
    for (int i = 0; i < n; i++)
        ut_buf_printf(b, "sluice_journal_lost_records{stream=\"%s\"} %llu\n",
                      s->streams[i]->name, (unsigned long long)in[i].lost_records);
    /* lake sinks */
    lk_sink_stats *ks = ut_calloc((size_t)n + 1, sizeof *ks);
    for (int i = 0; i < n; i++)
        if (s->streams[i]->sink) lk_sink_get_stats(s->streams[i]->sink, &ks[i]);
    static const struct {
        const char *name, *type, *help;
        int field;
    } sm[] = {{"sluice_sink_records_total", "counter", "Records landed in the lake.", 0},
              {"sluice_sink_errors_total", "counter", "Records sent to the errors table.", 1},
              {"sluice_sink_files_total", "counter", "Parquet files committed.", 2},
              {"sluice_sink_bytes_total", "counter", "Parquet bytes committed.", 3},
              {"sluice_sink_flushes_total", "counter", "Flushes (catalog commits).", 4},
              {"sluice_sink_buffered_records", "gauge", "Records buffered, not yet in a file.", 5},
              {"sluice_sink_lag_records", "gauge", "Acknowledged records not yet committed to the lake.", 6},
              {"sluice_sink_commit_lag_seconds", "gauge", "Ingest-to-commit time of the oldest record of the last flush.", 7},
              {"sluice_sink_compacted_files_total", "counter", "Small files merged away by compaction.", 8},
              {"sluice_sink_past_end", "gauge", "1: the sink is stopped, its position is past the stream's end (the journal lost records).", 9},
              {"sluice_sink_retries_total", "counter", "Failed sink steps retried (store or catalog failing), each after a backoff.", 10}};
    for (size_t m = 0; m < sizeof sm / sizeof sm[0]; m++) {
        help(b, sm[m].name, sm[m].type, sm[m].help);
        for (int i = 0; i < n; i++) {
            if (!s->streams[i]->sink) continue;
            const lk_sink_stats *k = &ks[i];
            double v = sm[m].field == 0 ? (double)k->records_landed
                     : sm[m].field == 1 ? (double)k->records_errored
                     : sm[m].field == 2 ? (double)k->files_committed
                     : sm[m].field == 3 ? (double)k->bytes_committed
                     : sm[m].field == 4 ? (double)k->flushes
                     : sm[m].field == 5 ? (double)k->buffered_records
                     : sm[m].field == 6 ? (k->past_end ? NAN /* unknown, never 0 */
                                          : (double)(in[i].next_offset > k->position ? in[i].next_offset - k->position : 0))
                     : sm[m].field == 7 ? (double)k->last_commit_lag_us / 1e6
                     : sm[m].field == 8 ? (double)k->files_compacted
                     : sm[m].field == 9 ? (double)k->past_end
                                        : (double)k->retries;
            if (isnan(v))
                ut_buf_printf(b, "%s{stream=\"%s\"} NaN\n", sm[m].name, s->streams[i]->name);
            else
                ut_buf_printf(b, "%s{stream=\"%s\"} %.17g\n", sm[m].name, s->streams[i]->name, v);
        }
    }
    free(ks);
    free(in);
    /* consumer groups: gather once, then one block per metric */
    jr_group_info **gl = ut_calloc((size_t)n + 1, sizeof *gl);
    int *gn = ut_calloc((size_t)n + 1, sizeof *gn);
    for (int i = 0; i < n; i++) {
        char err[256];
        if (jr_group_list(s->streams[i]->jr, &gl[i], &gn[i], err, sizeof err)) gn[i] = 0;
    }
    help(b, "sluice_consumer_lag", "gauge", "Records a consumer group has not yet been delivered.");
    for (int i = 0; i < n; i++)
        for (int g = 0; g < gn[i]; g++)
            ut_buf_printf(b, "sluice_consumer_lag{stream=\"%s\",group=\"%s\"} %llu\n",
                          s->streams[i]->name, gl[i][g].name, (unsigned long long)gl[i][g].lag);
    help(b, "sluice_consumer_pending", "gauge", "Delivered but unacknowledged records of a group.");
    for (int i = 0; i < n; i++)
        for (int g = 0; g < gn[i]; g++)
            ut_buf_printf(b, "sluice_consumer_pending{stream=\"%s\",group=\"%s\"} %llu\n",
                          s->streams[i]->name, gl[i][g].name, (unsigned long long)gl[i][g].pending);
    for (int i = 0; i < n; i++) jr_group_list_free(gl[i], gn[i]);
    free(gl);
    free(gn);
    uint64_t free_b, total_b;
    if (disk_space(s, &free_b, &total_b) == 0) {
        help(b, "sluice_disk_free_bytes", "gauge",
             "Bytes free (to unprivileged users) on the journals' file system.");
        ut_buf_printf(b, "sluice_disk_free_bytes %llu\n", (unsigned long long)free_b);
        help(b, "sluice_disk_total_bytes", "gauge", "Size of the journals' file system.");
        ut_buf_printf(b, "sluice_disk_total_bytes %llu\n", (unsigned long long)total_b);
    }
    struct timespec ts;
    clock_gettime(CLOCK_REALTIME, &ts);
    help(b, "sluice_uptime_seconds", "gauge", "Seconds since the server started.");
    ut_buf_printf(b, "sluice_uptime_seconds %.3f\n",
                  ((double)ts.tv_sec * 1000 + (double)ts.tv_nsec / 1e6 - (double)s->started_ms) / 1000);
    if (s->o.ext_metrics) s->o.ext_metrics(s->o.ext_arg, b);
}
