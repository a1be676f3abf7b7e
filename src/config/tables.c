/* The lake tables streams land in: the naming rule (sink.table or
 * t1_<stream>) and the collision rule, used by the config check, the server's
 * stream registry at start-up and at auto-create. */
#include "config/config.h"
#include "util/util.h"

#include <assert.h>
#include <stdio.h>
#include <string.h>
#include <strings.h>

void cf_sink_table(const char *stream, const char *table, char *out, size_t outlen)
{
    assert(outlen > 0);
    if (table && table[0]) {
        snprintf(out, outlen, "%s", table);
        return;
    }
    snprintf(out, outlen, "t1_%s", stream);
    for (char *c = out; *c; c++) /* stream names may hold '-' and '.', table names not */
        if (*c == '-' || *c == '.') *c = '_';
}

/* a == b + "_errors", ignoring case. */
static int is_errors_of(const char *a, const char *b)
{
    size_t la = strlen(a), lb = strlen(b);
    return la == lb + 7 && !strncasecmp(a, b, lb) && !strcasecmp(a + lb, "_errors");
}

int cf_tables_collide(const char *a, const char *b)
{
    return !strcasecmp(a, b) || is_errors_of(a, b) || is_errors_of(b, a);
}

int cf_tables_clash(char *msg, size_t msglen, const char *s1, const char *t1, const char *s2,
                    const char *t2)
{
    if (!strcmp(t1, t2))
        return ut_err(msg, msglen,
                      "streams %s and %s both land in table %s ('-' and '.' in stream names "
                      "become '_'); give one of them its own sink.table",
                      s1, s2, t1);
    if (!strcasecmp(t1, t2))
        return ut_err(msg, msglen,
                      "streams %s and %s land in tables %s and %s, which are one table (table "
                      "names ignore case); give one of them its own sink.table",
                      s1, s2, t1, t2);
    return ut_err(msg, msglen,
                  "streams %s and %s land in tables %s and %s, but the sink keeps a table's "
                  "rejected records in <table>_errors; give one of them another sink.table",
                  s1, s2, t1, t2);
}

int cf_check_tables(const cf_config *c, char *msg, size_t msglen)
{
    char a[CF_TABLE_MAX], b[CF_TABLE_MAX];
    for (int i = 0; i < c->nstreams; i++) {
        const cf_stream *x = &c->streams[i];
        if (!x->sink.enabled) continue;
        cf_sink_table(x->name, x->sink.table, a, sizeof a);
        for (int j = i + 1; j < c->nstreams; j++) {
            const cf_stream *y = &c->streams[j];
            if (!y->sink.enabled) continue;
            cf_sink_table(y->name, y->sink.table, b, sizeof b);
            if (cf_tables_collide(a, b)) return cf_tables_clash(msg, msglen, x->name, a, y->name, b);
        }
    }
    return 0;
}
