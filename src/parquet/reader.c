/* Parquet reader: opening (mmap or memory), footer validation, schema to
 * column mapping, and the metadata accessors of parquet.h.  Column chunk
 * decoding is in colread.c, statistics in stats.c. */
#include "parquet/read_int.h"

#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <sys/stat.h>
#include <unistd.h>

#define PQ__MAX_FOOTER ((uint32_t)64 << 20)
#define PQ__MAX_SCHEMA_DEPTH 64

/* ---- schema → columns ------------------------------------------------------ */

static void logical_text(const pq__schema_el *e, pq__colinfo *c)
{
    char *o = c->logical;
    size_t n = sizeof c->logical;
    static const char *units[] = {"?", "MILLIS", "MICROS", "NANOS"};
    const char *unit = units[e->lt_unit >= 1 && e->lt_unit <= 3 ? e->lt_unit : 0];
    switch (e->lt) {
    case PQ__LT_STRING: snprintf(o, n, "STRING"); return;
    case PQ__LT_ENUM: snprintf(o, n, "ENUM"); return;
    case PQ__LT_JSON: snprintf(o, n, "JSON"); return;
    case PQ__LT_BSON: snprintf(o, n, "BSON"); return;
    case PQ__LT_UUID: snprintf(o, n, "UUID"); return;
    case PQ__LT_FLOAT16: snprintf(o, n, "FLOAT16"); return;
    case PQ__LT_DATE: snprintf(o, n, "DATE"); return;
    case PQ__LT_UNKNOWN: snprintf(o, n, "UNKNOWN"); return;
    case PQ__LT_DECIMAL: snprintf(o, n, "DECIMAL(%d,%d)", c->precision, c->scale); return;
    case PQ__LT_TIME:
        snprintf(o, n, "TIME(%s,%s)", unit, e->lt_utc ? "UTC" : "local");
        return;
    case PQ__LT_TIMESTAMP:
        snprintf(o, n, "TIMESTAMP(%s,%s)", unit, e->lt_utc ? "UTC" : "local");
        return;
    case PQ__LT_INTEGER:
        snprintf(o, n, "INT(%d,%s)", e->lt_bits, e->lt_signed ? "signed" : "unsigned");
        return;
    }
    static const char *ct[] = {"UTF8", "MAP", "MAP_KEY_VALUE", "LIST", "ENUM", "DECIMAL",
                               "DATE", "TIME_MILLIS", "TIME_MICROS", "TIMESTAMP_MILLIS",
                               "TIMESTAMP_MICROS", "UINT_8", "UINT_16", "UINT_32", "UINT_64",
                               "INT_8", "INT_16", "INT_32", "INT_64", "JSON", "BSON",
                               "INTERVAL"};
    if (e->has_ct && e->ct == PQ__CT_DECIMAL)
        snprintf(o, n, "DECIMAL(%d,%d)", c->precision, c->scale);
    else if (e->has_ct && e->ct >= 0 && e->ct <= PQ__CT_INTERVAL)
        snprintf(o, n, "%s", ct[e->ct]);
    else if (c->physical == PQ__INT96)
        snprintf(o, n, "INT96 timestamp");
    else
        o[0] = 0;
}

/* Map a flat leaf's physical + logical types to a pq_type. */
static void map_type(const pq__schema_el *e, pq__colinfo *c)
{
    int ct = e->has_ct ? e->ct : -1, lt = e->lt;
    int dec = lt == PQ__LT_DECIMAL || (lt == PQ__LT_NONE && ct == PQ__CT_DECIMAL);
    c->precision = lt == PQ__LT_DECIMAL ? e->lt_precision : e->precision;
    c->scale = lt == PQ__LT_DECIMAL ? e->lt_scale : e->scale;
    int unit = 0, ntz = 0, time_unit = 0;
    if (lt == PQ__LT_TIMESTAMP) unit = e->lt_unit, ntz = !e->lt_utc;
    else if (ct == PQ__CT_TIMESTAMP_MILLIS) unit = PQ__UNIT_MILLIS;
    else if (ct == PQ__CT_TIMESTAMP_MICROS) unit = PQ__UNIT_MICROS;
    /* INT64 TIME in MICROS or NANOS (INT32 TIME_MILLIS stays an INT32) */
    if (lt == PQ__LT_TIME && (e->lt_unit == PQ__UNIT_MICROS || e->lt_unit == PQ__UNIT_NANOS))
        time_unit = e->lt_unit;
    else if (ct == PQ__CT_TIME_MICROS) time_unit = PQ__UNIT_MICROS;
    int uns = (lt == PQ__LT_INTEGER && !e->lt_signed) ||
              (lt == PQ__LT_NONE && ct >= PQ__CT_UINT_8 && ct <= PQ__CT_UINT_64);
    switch (c->physical) {
    case PQ__BOOLEAN: c->type = PQ_BOOL; break;
    case PQ__INT32:
        if (dec) c->type = PQ_DECIMAL;
        else if (lt == PQ__LT_DATE || ct == PQ__CT_DATE) c->type = PQ_DATE;
        else if (uns) {
            c->type = PQ_INT64;
            c->zero_extend = 1;
        } else c->type = PQ_INT32;
        break;
    case PQ__INT64:
        if (dec) c->type = PQ_DECIMAL;
        else if (unit) {
            c->type = ntz ? PQ_TIMESTAMP_NTZ : PQ_TIMESTAMP;
            c->ts_unit = unit;
        } else if (time_unit) {
            c->type = PQ_TIME;
            c->ts_unit = time_unit;
        } else if (uns) c->type = PQ_UINT64;
        else c->type = PQ_INT64;
        break;
    case PQ__INT96:
        c->type = PQ_TIMESTAMP;
        c->ts_unit = PQ__UNIT_NANOS;
        break;
    case PQ__FLOAT: c->type = PQ_FLOAT; break;
    case PQ__DOUBLE: c->type = PQ_DOUBLE; break;
    case PQ__BYTE_ARRAY:
        if (dec) c->type = PQ_DECIMAL;
        else if (lt == PQ__LT_STRING || lt == PQ__LT_ENUM || lt == PQ__LT_JSON ||
                 (lt == PQ__LT_NONE && (ct == PQ__CT_UTF8 || ct == PQ__CT_ENUM || ct == PQ__CT_JSON)))
            c->type = PQ_STRING;
        else c->type = PQ_BYTES;
        break;
    case PQ__FIXED_LEN_BYTE_ARRAY: c->type = dec ? PQ_DECIMAL : PQ_BYTES; break;
    default: c->type = PQ_UNSUPPORTED; break;
    }
    if (dec && (c->scale < 0 || c->scale > 400)) c->scale = 0;
    c->no_stats = lt == PQ__LT_FLOAT16 || ct == PQ__CT_INTERVAL;
    logical_text(e, c);
}

typedef struct walk {
    pq_reader *r;
    int next;       /* next schema element index */
    int cap;
    char *err;
    size_t errlen;
} walk;

/* Walk the children of a group; path is the dotted prefix so far.
 * Depth-bounded recursion over at most nschema elements. */
static int walk_group(walk *w, int nchildren, const char *path, int depth, int def, int nested,
                      const char *outer)
{
    pq_reader *r = w->r;
    if (depth > PQ__MAX_SCHEMA_DEPTH) return ut_err(w->err, w->errlen, "schema nested too deeply");
    for (int i = 0; i < nchildren; i++) {
        if (w->next >= r->fmd.nschema)
            return ut_err(w->err, w->errlen, "schema has fewer elements than its groups declare");
        const pq__schema_el *e = &r->fmd.schema[w->next++];
        char name[1024];
        int nl = (int)(e->name_n < 400 ? e->name_n : 400);
        snprintf(name, sizeof name, "%s%s%.*s", path, *path ? "." : "", nl,
                 e->name ? (const char *)e->name : "");
        int rep = e->has_rep ? e->rep : PQ__OPTIONAL;
        int d = def + (rep != PQ__REQUIRED);
        if (e->num_children > 0 || !e->has_type) {
            const char *kind = outer;
            if (!kind) {
                int ct = e->has_ct ? e->ct : -1;
                kind = e->lt == PQ__LT_LIST || ct == PQ__CT_LIST ? "LIST"
                       : e->lt == PQ__LT_MAP || ct == PQ__CT_MAP || ct == PQ__CT_MAP_KEY_VALUE ? "MAP"
                                                                                              : "STRUCT";
            }
            if (e->num_children < 0 || e->num_children > r->fmd.nschema)
                return ut_err(w->err, w->errlen, "schema element '%s' has a bad child count", name);
            if (walk_group(w, e->num_children, name, depth + 1, d, 1, kind)) return -1;
            continue;
        }
        if (r->ncols == w->cap) {
            w->cap = w->cap ? w->cap * 2 : 16;
            r->cols = ut_realloc(r->cols, (size_t)w->cap * sizeof *r->cols);
        }
        pq__colinfo *c = &r->cols[r->ncols++];
        memset(c, 0, sizeof *c);
        c->name = ut_strdup(name);
        c->physical = e->type;
        c->type_length = e->type_length;
        c->max_def = d;
        c->optional = d == 1;
        if (nested || rep == PQ__REPEATED) {
            c->type = PQ_UNSUPPORTED;
            snprintf(c->logical, sizeof c->logical, "%s (nested, not supported yet)",
                     outer ? outer : "REPEATED");
        } else if (e->type < PQ__BOOLEAN || e->type > PQ__FIXED_LEN_BYTE_ARRAY) {
            return ut_err(w->err, w->errlen, "column '%s' has unknown physical type %d", name,
                          e->type);
        } else if (e->type == PQ__FIXED_LEN_BYTE_ARRAY &&
                   (e->type_length <= 0 || e->type_length > (1 << 20))) {
            return ut_err(w->err, w->errlen, "column '%s' has bad FIXED_LEN_BYTE_ARRAY length %d",
                          name, e->type_length);
        } else {
            map_type(e, c);
        }
        c->kind = pq_type_kind(c->type);
    }
    return 0;
}

static int build_columns(pq_reader *r, char *err, size_t errlen)
{
    walk w = {r, 1, 0, err, errlen};
    const pq__schema_el *root = &r->fmd.schema[0];
    if (root->num_children < 0 || root->num_children >= r->fmd.nschema)
        return ut_err(err, errlen, "schema root has a bad child count %d", root->num_children);
    if (walk_group(&w, root->num_children, "", 0, 0, 0, NULL)) return -1;
    for (int i = 0; i < r->ncols; i++)
        r->cols[i].typed_order = i < r->fmd.ncolorders ? r->fmd.colorders[i] : r->fmd.ncolorders == 0;
    return 0;
}

/* ---- open ------------------------------------------------------------------- */

static char *dup_n(const uint8_t *p, size_t n)
{
    return p ? ut_strndup((const char *)p, n) : NULL;
}

static int parse_footer(pq_reader *r, char *err, size_t errlen)
{
    char msg[256];
    if (r->len < 12) return ut_err(err, errlen, "%s: not a Parquet file (only %zu bytes)", r->name, r->len);
    if (memcmp(r->buf, "PAR1", 4) || memcmp(r->buf + r->len - 4, "PAR1", 4)) {
        if (!memcmp(r->buf + r->len - 4, "PARE", 4))
            return ut_err(err, errlen, "%s: encrypted Parquet files are not supported", r->name);
        return ut_err(err, errlen, "%s: not a Parquet file (no PAR1 magic)", r->name);
    }
    const uint8_t *t = r->buf + r->len - 8;
    uint32_t flen = (uint32_t)t[0] | (uint32_t)t[1] << 8 | (uint32_t)t[2] << 16 | (uint32_t)t[3] << 24;
    if (flen > PQ__MAX_FOOTER)
        return ut_err(err, errlen, "%s: footer of %u bytes is over the 64 MiB cap", r->name, flen);
    if ((size_t)flen > r->len - 12)
        return ut_err(err, errlen, "%s: truncated (footer length %u, file %zu bytes)", r->name, flen,
                      r->len);
    if (pq__fmd_parse(t - flen, flen, &r->fmd, msg, sizeof msg))
        return ut_err(err, errlen, "%s: %s", r->name, msg);
    if (r->fmd.num_rows < 0) return ut_err(err, errlen, "%s: negative row count", r->name);
    if (build_columns(r, msg, sizeof msg)) return ut_err(err, errlen, "%s: %s", r->name, msg);
    int64_t total = 0;
    for (int g = 0; g < r->fmd.nrg; g++) {
        const pq__rowgroup *rg = &r->fmd.rgs[g];
        if (rg->ncols != r->ncols)
            return ut_err(err, errlen, "%s: row group %d has %d columns, schema has %d", r->name, g,
                          rg->ncols, r->ncols);
        if (rg->num_rows < 0 || rg->num_rows > INT64_MAX - total)
            return ut_err(err, errlen, "%s: row group %d has a bad row count", r->name, g);
        total += rg->num_rows;
        for (int c = 0; c < r->ncols; c++) {
            const pq__chunk *ch = &rg->cols[c];
            if (r->cols[c].type != PQ_UNSUPPORTED && ch->type != r->cols[c].physical)
                return ut_err(err, errlen,
                              "%s: row group %d column '%s': chunk type %d differs from schema type %d",
                              r->name, g, r->cols[c].name, ch->type, r->cols[c].physical);
        }
    }
    if (r->fmd.nrg && total != r->fmd.num_rows)
        return ut_err(err, errlen, "%s: row groups hold %lld rows, footer says %lld", r->name,
                      (long long)total, (long long)r->fmd.num_rows);
    r->created_by = dup_n(r->fmd.created_by, r->fmd.created_by_n);
    r->nkv = r->fmd.nkv;
    r->kv = ut_calloc((size_t)(r->nkv ? r->nkv : 1), sizeof *r->kv);
    for (int i = 0; i < r->nkv; i++) {
        r->kv[i].k = dup_n(r->fmd.kv[i].k, r->fmd.kv[i].kn);
        r->kv[i].v = r->fmd.kv[i].has_v ? dup_n(r->fmd.kv[i].v, r->fmd.kv[i].vn) : NULL;
    }
    return 0;
}

static pq_reader *open_common(pq_reader *r, char *err, size_t errlen)
{
    if (parse_footer(r, err, errlen)) {
        pq_reader_destroy(r);
        return NULL;
    }
    return r;
}

pq_reader *pq_reader_open_mem(const void *buf, size_t len, const char *name, char *err,
                              size_t errlen)
{
    pq_reader *r = ut_calloc(1, sizeof *r);
    r->name = ut_strdup(name ? name : "(memory)");
    r->buf = buf;
    r->len = len;
    return open_common(r, err, errlen);
}

pq_reader *pq_reader_open(const char *path, char *err, size_t errlen)
{
    struct stat st;
    int fd = open(path, O_RDONLY | O_CLOEXEC);
    if (fd < 0) {
        ut_err(err, errlen, "%s: %s", path, strerror(errno));
        return NULL;
    }
    if (fstat(fd, &st) || !S_ISREG(st.st_mode)) {
        ut_err(err, errlen, "%s: not a regular file", path);
        close(fd);
        return NULL;
    }
    pq_reader *r = ut_calloc(1, sizeof *r);
    r->name = ut_strdup(path);
    r->len = (size_t)st.st_size;
    if (r->len > 0) {
        void *m = mmap(NULL, r->len, PROT_READ, MAP_PRIVATE, fd, 0);
        if (m == MAP_FAILED) {
            ut_err(err, errlen, "%s: mmap: %s", path, strerror(errno));
            close(fd);
            pq_reader_destroy(r);
            return NULL;
        }
        r->buf = m;
        r->mapped = 1;
    }
    close(fd);
    return open_common(r, err, errlen);
}

void pq_reader_destroy(pq_reader *r)
{
    if (!r) return;
    if (r->mapped) munmap((void *)r->buf, r->len);
    for (int i = 0; i < r->ncols; i++) free(r->cols[i].name);
    free(r->cols);
    for (int i = 0; i < r->nkv; i++) {
        free(r->kv[i].k);
        free(r->kv[i].v);
    }
    free(r->kv);
    free(r->created_by);
    pq__fmd_free(&r->fmd);
    free(r->name);
    free(r);
}

/* ---- accessors ---------------------------------------------------------------- */

int64_t pq_reader_num_rows(const pq_reader *r)
{
    return r->fmd.num_rows;
}

int pq_reader_num_row_groups(const pq_reader *r)
{
    return r->fmd.nrg;
}

int64_t pq_reader_row_group_rows(const pq_reader *r, int rg)
{
    return rg >= 0 && rg < r->fmd.nrg ? r->fmd.rgs[rg].num_rows : 0;
}

int pq_reader_num_columns(const pq_reader *r)
{
    return r->ncols;
}

const char *pq_reader_created_by(const pq_reader *r)
{
    return r->created_by;
}

int pq_reader_num_kv(const pq_reader *r)
{
    return r->nkv;
}

void pq_reader_kv(const pq_reader *r, int i, const char **key, const char **value)
{
    *key = i >= 0 && i < r->nkv ? r->kv[i].k : NULL;
    *value = i >= 0 && i < r->nkv ? r->kv[i].v : NULL;
}

void pq_reader_column(const pq_reader *r, int col, pq_column_info *out)
{
    memset(out, 0, sizeof *out);
    if (col < 0 || col >= r->ncols) {
        out->name = "";
        out->logical = "";
        out->type = PQ_UNSUPPORTED;
        out->kind = PQ_K_BYTES;
        return;
    }
    const pq__colinfo *c = &r->cols[col];
    out->name = c->name;
    out->type = c->type;
    out->kind = c->kind;
    out->optional = c->optional;
    out->physical = c->physical;
    out->type_length = c->type_length;
    out->precision = c->precision;
    out->scale = c->scale;
    out->logical = c->logical;
}

int pq_reader_find_column(const pq_reader *r, const char *name)
{
    for (int i = 0; i < r->ncols; i++)
        if (!strcmp(r->cols[i].name, name)) return i;
    return -1;
}
