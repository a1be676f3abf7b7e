/* jobs: what changed in a snapshot source table's columns since the last
 * run.
 *
 *   the source's columns now ──► JSON [{"name":..,"type":..}, ...] (kept in
 *   the run's commit: ct_part_state) ──► compared with the last run's:
 *
 *     added    a name that was not there
 *     dropped  a name that is gone
 *     retyped  the same name, another type ("smallint" -> "bigint")
 *     renamed  a dropped and an added column of the same source position
 *              (PostgreSQL's attnum: a rename keeps it, a drop never frees it
 *              for another column); a type change with it is noted too
 *
 *   ──► one alert record per change (the _alerts stream, through the
 *   run's outbox: sent exactly when the run commits) and a Slack-compatible
 *   message for the job's webhook.
 *
 * Types are compared as the source spells them, so numeric(12,2) ->
 * numeric(14,2) is a change too. */
#include "jobs/jb_int.h"
#include "json/json.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

void jb__snap_schema_text(const sn_column *cols, int n, const char *const *lake, ut_buf *out)
{
    ut_buf_putc(out, '[');
    for (int i = 0; i < n; i++) {
        ut_buf_puts(out, i ? ",{\"name\":" : "{\"name\":");
        ut_json_str(out, cols[i].name, strlen(cols[i].name));
        ut_buf_puts(out, ",\"type\":");
        ut_json_str(out, cols[i].type, strlen(cols[i].type));
        if (lake && lake[i]) ut_buf_puts(out, ",\"lake\":"), ut_json_str(out, lake[i], strlen(lake[i]));
        ut_buf_printf(out, ",\"pos\":%d}", cols[i].position);
    }
    ut_buf_putc(out, ']');
}

/* The last run's columns.  Count, or -1 when the text does not parse. */
static int parse_old(const char *text, sn_column **out, jb_lake_name **lake)
{
    js_parser *a = js_parser_create(CT_SOURCE_SCHEMA_MAX, 4), *o = js_parser_create(0, 4);
    char err[200];
    const char *el;
    size_t en, off;
    int n = 0, rc = js_array_begin(a, text, strlen(text), err, sizeof err);
    sn_column *v = NULL;
    while (rc == 0 && n < SN_MAX_COLUMNS) {
        int got = js_array_next(a, &el, &en, &off, err, sizeof err);
        if (got <= 0) {
            rc = got;
            break;
        }
        v = ut_realloc(v, sizeof *v * (size_t)(n + 1));
        memset(&v[n], 0, sizeof v[n]);
        if (lake) {
            *lake = ut_realloc(*lake, sizeof **lake * (size_t)(n + 1));
            (*lake)[n][0] = 0;
        }
        js_field f;
        if (js_obj_begin(o, el, en, err, sizeof err)) rc = -1;
        int more;
        while (rc == 0 && (more = js_obj_next(o, &f, err, sizeof err)) != 0) {
            if (more < 0) {
                rc = -1;
                break;
            }
            if (f.v.kind == JS_INT && f.key_len == 3 && !memcmp(f.key, "pos", 3))
                v[n].position = (int)f.v.i;
            if (f.v.kind != JS_STRING) continue;
            char *dst = f.key_len == 4 && !memcmp(f.key, "name", 4) ? v[n].name
                        : f.key_len == 4 && !memcmp(f.key, "type", 4) ? v[n].type
                        : lake && f.key_len == 4 && !memcmp(f.key, "lake", 4) ? (*lake)[n] : NULL;
            size_t cap = dst == v[n].type ? sizeof v[n].type : sizeof v[n].name;
            if (dst) snprintf(dst, cap, "%.*s", (int)f.v.n, f.v.s);
        }
        n++;
    }
    js_parser_destroy(a);
    js_parser_destroy(o);
    if (rc) {
        free(v);
        if (lake) free(*lake), *lake = NULL;
        return -1;
    }
    *out = v;
    return n;
}

int jb__snap_schema_lakes(const char *text, sn_column **cols, jb_lake_name **lake)
{
    *cols = NULL, *lake = NULL;
    return parse_old(text, cols, lake);
}

static int find(const sn_column *v, int n, const char *name)
{
    for (int i = 0; i < n; i++)
        if (!strcmp(v[i].name, name)) return i;
    return -1;
}

/* The column of v at source position pos whose name is not in other. */
static int moved(const sn_column *v, int n, int pos, const sn_column *other, int no)
{
    for (int i = 0; pos > 0 && i < n; i++)
        if (v[i].position == pos && find(other, no, v[i].name) < 0) return i;
    return -1;
}

static void add(jb_schema_changes *c, const char *what, const char *col, const char *to,
                const char *from_type, const char *to_type)
{
    if (c->n == JB_MAX_SCHEMA_CHANGES) {
        c->more++;
        return;
    }
    jb_schema_change *x = &c->v[c->n++];
    snprintf(x->change, sizeof x->change, "%s", what);
    snprintf(x->column, sizeof x->column, "%s", col);
    snprintf(x->to, sizeof x->to, "%s", to ? to : "");
    snprintf(x->from_type, sizeof x->from_type, "%s", from_type ? from_type : "");
    snprintf(x->to_type, sizeof x->to_type, "%s", to_type ? to_type : "");
}

int jb__snap_schema_diff(const char *old_text, const sn_column *cols, int n, jb_schema_changes *c)
{
    memset(c, 0, sizeof *c);
    sn_column *old = NULL;
    int no = parse_old(old_text, &old, NULL);
    if (no < 0) return -1;
    for (int i = 0; i < no; i++) { /* dropped or renamed, retyped */
        int k = find(cols, n, old[i].name);
        if (k >= 0) {
            if (strcmp(old[i].type, cols[k].type))
                add(c, "retyped", old[i].name, NULL, old[i].type, cols[k].type);
            continue;
        }
        int r = moved(cols, n, old[i].position, old, no);
        if (r >= 0) add(c, "renamed", old[i].name, cols[r].name, old[i].type, cols[r].type);
        else add(c, "dropped", old[i].name, NULL, old[i].type, NULL);
    }
    for (int i = 0; i < n; i++) /* added (not the new name of a renamed one) */
        if (find(old, no, cols[i].name) < 0 && moved(old, no, cols[i].position, cols, n) < 0)
            add(c, "added", cols[i].name, NULL, NULL, cols[i].type);
    free(old);
    return c->n + c->more;
}

/* One change in words: "dropped phone (text)". */
static void change_text(ut_buf *b, const jb_schema_change *x)
{
    if (!strcmp(x->change, "renamed") && strcmp(x->from_type, x->to_type))
        ut_buf_printf(b, "renamed %s -> %s (%s -> %s)", x->column, x->to, x->from_type, x->to_type);
    else if (!strcmp(x->change, "renamed"))
        ut_buf_printf(b, "renamed %s -> %s (%s)", x->column, x->to, x->to_type);
    else if (!strcmp(x->change, "retyped"))
        ut_buf_printf(b, "retyped %s %s -> %s", x->column, x->from_type, x->to_type);
    else
        ut_buf_printf(b, "%s %s (%s)", x->change, x->column,
                      x->to_type[0] ? x->to_type : x->from_type);
}

void jb__snap_schema_words(const jb_schema_changes *c, ut_buf *b)
{
    for (int i = 0; i < c->n; i++) {
        if (i) ut_buf_puts(b, "; ");
        change_text(b, &c->v[i]);
    }
    if (c->more) ut_buf_printf(b, "; and %d more", c->more);
}

void jb__snap_alert_record(const jb_task_ctx *ctx, const char *lake_table,
                           const jb_schema_change *x, ut_buf *b)
{
    char at[40];
    ut_ts_format(at, jb__now_us(ctx->rt));
    ut_buf_puts(b, "{\"alert\":\"schema_change\",\"job\":");
    ut_json_str(b, ctx->job->name, strlen(ctx->job->name));
    ut_buf_puts(b, ",\"source\":");
    ut_json_str(b, ctx->job->source, strlen(ctx->job->source));
    ut_buf_puts(b, ",\"table\":");
    ut_json_str(b, ctx->run->part, strlen(ctx->run->part));
    ut_buf_puts(b, ",\"lake_table\":");
    ut_json_str(b, lake_table, strlen(lake_table));
    ut_buf_printf(b, ",\"run_id\":%lld,\"at\":\"%s\",\"change\":", (long long)ctx->run->id, at);
    ut_json_str(b, x->change, strlen(x->change));
    ut_buf_puts(b, ",\"column\":");
    ut_json_str(b, x->column, strlen(x->column));
    if (x->to[0]) ut_buf_puts(b, ",\"to\":"), ut_json_str(b, x->to, strlen(x->to));
    if (x->from_type[0])
        ut_buf_puts(b, ",\"from_type\":"), ut_json_str(b, x->from_type, strlen(x->from_type));
    if (x->to_type[0])
        ut_buf_puts(b, ",\"to_type\":"), ut_json_str(b, x->to_type, strlen(x->to_type));
    ut_buf_putc(b, '}');
}
