/* The lake tables streams land in: the naming rule (sink.table or
 * t1_<stream>) and the collision rule (over the tables and their errors
 * tables, named as the sink names them: lk_errors_table_name), used by the
 * config check, the server's stream registry at start-up and at auto-create. */
#include "config/config.h"
#include "lake/lake.h"
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

int cf_tables_collide(const char *a, const char *b)
{
    char ea[LK_TABLE_NAME_MAX + 1], eb[LK_TABLE_NAME_MAX + 1];
    lk_errors_table_name(a, ea); /* "<a>_errors", or cut and hashed over 120 characters */
    lk_errors_table_name(b, eb);
    return !strcasecmp(a, b) || !strcasecmp(a, eb) || !strcasecmp(ea, b) || !strcasecmp(ea, eb);
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
    char e1[LK_TABLE_NAME_MAX + 1], e2[LK_TABLE_NAME_MAX + 1];
    lk_errors_table_name(t1, e1);
    lk_errors_table_name(t2, e2);
    if (strcasecmp(t1, e2) && strcasecmp(e1, t2))
        return ut_err(msg, msglen,
                      "streams %s and %s would keep their rejected records in one errors "
                      "table, %s (of tables %s and %s; over 120 characters an errors table's "
                      "name is cut and hashed); give one of them another sink.table",
                      s1, s2, e1, t1, t2);
    int first = !strcasecmp(t1, e2); /* t1 is t2's errors table */
    return ut_err(msg, msglen,
                  "streams %s and %s: table %s is the errors table of %s (where the sink keeps "
                  "its rejected records: <table>_errors, cut and hashed over 120 characters); "
                  "give one of them another sink.table",
                  s1, s2, first ? t1 : t2, first ? t2 : t1);
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
