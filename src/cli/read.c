/* sluice read — print a stream's records from the journal on disk. */
#include "cli/cli.h"
#include "journal/journal.h"
#include "util/util.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

int cli_read(int argc, char **argv)
{
    const char *data = "./sluice-data";
    long from = 0, limit = -1, wait_ms = -1;
    int meta = 0;
    cli_flag flags[] = {
        {"data", 'd', CLI_STR, &data, "DIR", "data directory of the server"},
        {"from", 'f', CLI_INT, &from, "OFFSET", "first offset to print"},
        {"limit", 'n', CLI_INT, &limit, "N", "stop after N records"},
        {"follow", 'F', CLI_INT, &wait_ms, "MS", "keep waiting for new records, giving up after MS "
                                                 "quiet milliseconds"},
        {"meta", 'm', CLI_BOOL, &meta, NULL, "wrap each record as {\"offset\",\"ts\",\"record\"}"},
        {0}};
    cli_cmd cmd = {"read", "STREAM", "print a stream's records (NDJSON, one per line) from the "
                                     "journal; safe while the server runs", flags, 1, 1, NULL};
    char *pos[1];
    int npos, rc = cli_parse(&cmd, argc, argv, pos, &npos);
    if (rc >= 0) return rc;
    char dir[4096], err[512];
    snprintf(dir, sizeof dir, "%s/streams", data);
    jr_opts o;
    jr_opts_init(&o);
    o.retention_ms = 0; /* a reader never deletes anything */
    o.read_only = 1;    /* ... nor truncates the tail a running server is writing */
    jr_stream *s = jr_stream_open(dir, pos[0], &o, err, sizeof err);
    if (!s) {
        fprintf(stderr, "sluice read: %s\n", err);
        return 1;
    }
    jr_reader *r = jr_reader_create(s);
    jr_record recs[256];
    uint64_t next = (uint64_t)from;
    long printed = 0;
    ut_buf out = {0};
    rc = 0;
    while (limit < 0 || printed < limit) {
        int max = 256;
        if (limit >= 0 && limit - printed < max) max = (int)(limit - printed);
        int n = jr_read(r, next, recs, max, 4 << 20, err, sizeof err);
        if (n < 0) {
            fprintf(stderr, "sluice read: %s\n", err);
            rc = 1;
            break;
        }
        if (n == 0) {
            if (wait_ms < 0 || !jr_stream_wait(s, next, (int)wait_ms)) break;
            continue;
        }
        for (int i = 0; i < n; i++) {
            if (meta) {
                char ts[40];
                ut_ts_format(ts, recs[i].ts_us);
                ut_buf_printf(&out, "{\"offset\":%llu,\"ts\":\"%s\",\"record\":",
                              (unsigned long long)recs[i].offset, ts);
                ut_buf_put(&out, recs[i].p, recs[i].n);
                ut_buf_puts(&out, "}\n");
            } else {
                ut_buf_put(&out, recs[i].p, recs[i].n);
                ut_buf_putc(&out, '\n');
            }
            next = recs[i].offset + 1;
        }
        printed += n;
        if (out.len > (1 << 20)) { /* flush in large writes */
            fwrite(out.p, 1, out.len, stdout);
            ut_buf_reset(&out);
        }
    }
    if (out.len) fwrite(out.p, 1, out.len, stdout);
    ut_buf_free(&out);
    jr_reader_destroy(r);
    jr_stream_close(s);
    return rc;
}
