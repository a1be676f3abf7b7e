/* Decoding of Parquet's thrift metadata: FileMetaData (schema, row groups,
 * column chunks, statistics, key/value metadata, column orders) and
 * PageHeader.  Unknown fields, and known fields of an unexpected type, are
 * skipped.  Arrays grow as elements are actually decoded, so memory stays
 * proportional to the bytes consumed. */
#include "parquet/read_int.h"

#include <stdlib.h>
#include <string.h>

/* Field has the expected type?  Otherwise skip it and return 0. */
static int want(pq__tr *t, int type, int expected)
{
    if (type == expected) return 1;
    if (expected == PQ__TT_TRUE && type == PQ__TT_FALSE) return 1;
    pq__tr_skip(t, type);
    return 0;
}

static int is_int(int ty)
{
    return ty == PQ__TT_I16 || ty == PQ__TT_I32 || ty == PQ__TT_I64 || ty == PQ__TT_BYTE;
}

static int64_t read_int(pq__tr *t, int ty)
{
    if (ty == PQ__TT_BYTE) {
        if (t->p >= t->end) {
            pq__tr_fail(t, "truncated byte");
            return 0;
        }
        return (int8_t)*t->p++;
    }
    return pq__tr_i64(t);
}

/* Integer field into an int, skipping other types; range-checked. */
static void get_i32(pq__tr *t, int ty, int32_t *dst)
{
    if (!is_int(ty)) {
        pq__tr_skip(t, ty);
        return;
    }
    int64_t v = read_int(t, ty);
    if (v < INT32_MIN || v > INT32_MAX) pq__tr_fail(t, "i32 value out of range");
    else *dst = (int32_t)v;
}

static void get_int(pq__tr *t, int ty, int *dst)
{
    int32_t v = *dst;
    get_i32(t, ty, &v);
    *dst = v;
}

static void get_i64(pq__tr *t, int ty, int64_t *dst)
{
    if (!is_int(ty)) {
        pq__tr_skip(t, ty);
        return;
    }
    *dst = read_int(t, ty);
}

/* ---- logical types -------------------------------------------------------- */

static void parse_unit(pq__tr *t, int *unit)
{
    int id, ty;
    pq__tr_struct_begin(t);
    while (pq__tr_field(t, &id, &ty)) {
        if (ty == PQ__TT_STRUCT && id >= 1 && id <= 3) *unit = id;
        pq__tr_skip(t, ty);
    }
    pq__tr_struct_end(t);
}

static void parse_lt_member(pq__tr *t, int member, pq__schema_el *e)
{
    int id, ty;
    pq__tr_struct_begin(t);
    while (pq__tr_field(t, &id, &ty)) {
        if (member == PQ__LT_DECIMAL && id == 1) get_int(t, ty, &e->lt_scale);
        else if (member == PQ__LT_DECIMAL && id == 2) get_int(t, ty, &e->lt_precision);
        else if ((member == PQ__LT_TIME || member == PQ__LT_TIMESTAMP) && id == 1 &&
                 (ty == PQ__TT_TRUE || ty == PQ__TT_FALSE))
            e->lt_utc = ty == PQ__TT_TRUE;
        else if ((member == PQ__LT_TIME || member == PQ__LT_TIMESTAMP) && id == 2 &&
                 ty == PQ__TT_STRUCT)
            parse_unit(t, &e->lt_unit);
        else if (member == PQ__LT_INTEGER && id == 1) get_int(t, ty, &e->lt_bits);
        else if (member == PQ__LT_INTEGER && id == 2 && (ty == PQ__TT_TRUE || ty == PQ__TT_FALSE))
            e->lt_signed = ty == PQ__TT_TRUE;
        else pq__tr_skip(t, ty);
    }
    pq__tr_struct_end(t);
}

static void parse_logical(pq__tr *t, pq__schema_el *e)
{
    int id, ty;
    pq__tr_struct_begin(t);
    while (pq__tr_field(t, &id, &ty)) {
        if (ty == PQ__TT_STRUCT) {
            e->lt = id;
            parse_lt_member(t, id, e);
        } else {
            pq__tr_skip(t, ty);
        }
    }
    pq__tr_struct_end(t);
}

static void parse_schema_el(pq__tr *t, pq__schema_el *e)
{
    int id, ty;
    memset(e, 0, sizeof *e);
    e->lt_signed = 1;
    pq__tr_struct_begin(t);
    while (pq__tr_field(t, &id, &ty)) {
        switch (id) {
        case 1: e->has_type = is_int(ty); get_int(t, ty, &e->type); break;
        case 2: get_int(t, ty, &e->type_length); break;
        case 3: e->has_rep = is_int(ty); get_int(t, ty, &e->rep); break;
        case 4:
            if (want(t, ty, PQ__TT_BINARY)) e->name = pq__tr_binary(t, &e->name_n);
            break;
        case 5: get_int(t, ty, &e->num_children); break;
        case 6: e->has_ct = is_int(ty); get_int(t, ty, &e->ct); break;
        case 7: get_int(t, ty, &e->scale); break;
        case 8: get_int(t, ty, &e->precision); break;
        case 10:
            if (want(t, ty, PQ__TT_STRUCT)) parse_logical(t, e);
            break;
        default: pq__tr_skip(t, ty); break;
        }
    }
    pq__tr_struct_end(t);
}

/* ---- column chunks -------------------------------------------------------- */

static void parse_stats(pq__tr *t, pq__stats_raw *s)
{
    int id, ty;
    memset(s, 0, sizeof *s);
    pq__tr_struct_begin(t);
    while (pq__tr_field(t, &id, &ty)) {
        if (id == 3 && is_int(ty)) {
            s->has_null_count = 1;
            get_i64(t, ty, &s->null_count);
        } else if (ty != PQ__TT_BINARY) {
            pq__tr_skip(t, ty);
        } else if (id == 1) {
            s->max = pq__tr_binary(t, &s->max_n);
        } else if (id == 2) {
            s->min = pq__tr_binary(t, &s->min_n);
        } else if (id == 5) {
            s->max_value = pq__tr_binary(t, &s->max_value_n);
        } else if (id == 6) {
            s->min_value = pq__tr_binary(t, &s->min_value_n);
        } else {
            pq__tr_skip(t, ty);
        }
    }
    pq__tr_struct_end(t);
}

static void parse_col_meta(pq__tr *t, pq__chunk *c)
{
    int id, ty, et;
    c->has_meta = 1;
    pq__tr_struct_begin(t);
    while (pq__tr_field(t, &id, &ty)) {
        switch (id) {
        case 1: get_int(t, ty, &c->type); break;
        case 2:
            if (ty != PQ__TT_LIST) {
                pq__tr_skip(t, ty);
                break;
            }
            {
                int n = pq__tr_list(t, &et);
                for (int i = 0; i < n && !t->bad; i++) {
                    if (!is_int(et)) {
                        pq__tr_fail(t, "encodings list is not a list of integers");
                        break;
                    }
                    int64_t v = read_int(t, et);
                    if (c->num_encodings < 8) c->encodings[c->num_encodings++] = (int)v;
                }
            }
            break;
        case 4: get_int(t, ty, &c->codec); break;
        case 5: get_i64(t, ty, &c->num_values); break;
        case 6: get_i64(t, ty, &c->uncompressed); break;
        case 7: get_i64(t, ty, &c->compressed); break;
        case 9: get_i64(t, ty, &c->data_offset); break;
        case 11: get_i64(t, ty, &c->dict_offset); break;
        case 12:
            if (want(t, ty, PQ__TT_STRUCT)) {
                c->has_stats = 1;
                parse_stats(t, &c->stats);
            }
            break;
        default: pq__tr_skip(t, ty); break;
        }
    }
    pq__tr_struct_end(t);
}

static void parse_chunk(pq__tr *t, pq__chunk *c)
{
    int id, ty;
    memset(c, 0, sizeof *c);
    c->dict_offset = -1;
    pq__tr_struct_begin(t);
    while (pq__tr_field(t, &id, &ty)) {
        if (id == 3 && ty == PQ__TT_STRUCT) parse_col_meta(t, c);
        else pq__tr_skip(t, ty);
    }
    pq__tr_struct_end(t);
    if (!c->has_meta) pq__tr_fail(t, "column chunk without metadata");
}

static void parse_rowgroup(pq__tr *t, pq__rowgroup *g)
{
    int id, ty, et;
    memset(g, 0, sizeof *g);
    pq__tr_struct_begin(t);
    while (pq__tr_field(t, &id, &ty)) {
        if (id == 3) {
            get_i64(t, ty, &g->num_rows);
        } else if (id == 1 && ty == PQ__TT_LIST && !g->cols) {
            int n = pq__tr_list(t, &et);
            if (n && et != PQ__TT_STRUCT) {
                pq__tr_fail(t, "row group columns is not a list of structs");
                break;
            }
            int cap = 0;
            for (int i = 0; i < n && !t->bad; i++) {
                if (g->ncols == cap) {
                    cap = cap ? cap * 2 : 8;
                    g->cols = ut_realloc(g->cols, (size_t)cap * sizeof *g->cols);
                }
                parse_chunk(t, &g->cols[g->ncols]);
                g->ncols++;
            }
        } else {
            pq__tr_skip(t, ty);
        }
    }
    pq__tr_struct_end(t);
}

/* ---- FileMetaData --------------------------------------------------------- */

static void parse_kv(pq__tr *t, pq__kv_raw *kv)
{
    int id, ty;
    memset(kv, 0, sizeof *kv);
    pq__tr_struct_begin(t);
    while (pq__tr_field(t, &id, &ty)) {
        if (id == 1 && ty == PQ__TT_BINARY) {
            kv->k = pq__tr_binary(t, &kv->kn);
        } else if (id == 2 && ty == PQ__TT_BINARY) {
            kv->v = pq__tr_binary(t, &kv->vn);
            kv->has_v = 1;
        } else {
            pq__tr_skip(t, ty);
        }
    }
    pq__tr_struct_end(t);
    if (!kv->k) pq__tr_fail(t, "key/value metadata entry without a key");
}

static int parse_colorder(pq__tr *t)
{
    int id, ty, typed = 0;
    pq__tr_struct_begin(t);
    while (pq__tr_field(t, &id, &ty)) {
        if (id == 1 && ty == PQ__TT_STRUCT) typed = 1;
        pq__tr_skip(t, ty);
    }
    pq__tr_struct_end(t);
    return typed;
}

/* Grow *arr (element size sz) so that index i fits; *cap tracks capacity. */
static void *grow(void *arr, int i, int *cap, size_t sz)
{
    if (i < *cap) return arr;
    *cap = *cap ? *cap * 2 : 8;
    return ut_realloc(arr, (size_t)*cap * sz);
}

static void parse_struct_list(pq__tr *t, int field, pq__fmd *f)
{
    int et, cap = 0;
    int n = pq__tr_list(t, &et);
    if (n && et != PQ__TT_STRUCT) {
        pq__tr_fail(t, "FileMetaData list has the wrong element type");
        return;
    }
    for (int i = 0; i < n && !t->bad; i++) {
        switch (field) {
        case 2:
            f->schema = grow(f->schema, f->nschema, &cap, sizeof *f->schema);
            parse_schema_el(t, &f->schema[f->nschema++]);
            break;
        case 4:
            f->rgs = grow(f->rgs, f->nrg, &cap, sizeof *f->rgs);
            parse_rowgroup(t, &f->rgs[f->nrg++]);
            break;
        case 5:
            f->kv = grow(f->kv, f->nkv, &cap, sizeof *f->kv);
            parse_kv(t, &f->kv[f->nkv++]);
            break;
        case 7:
            f->colorders = grow(f->colorders, f->ncolorders, &cap, sizeof *f->colorders);
            f->colorders[f->ncolorders] = parse_colorder(t);
            f->ncolorders++;
            break;
        }
    }
}

int pq__fmd_parse(const uint8_t *p, size_t n, pq__fmd *f, char *err, size_t errlen)
{
    pq__tr t;
    int id, ty, seen[8] = {0};
    memset(f, 0, sizeof *f);
    pq__tr_init(&t, p, n);
    while (pq__tr_field(&t, &id, &ty)) {
        if (id == 3) {
            get_i64(&t, ty, &f->num_rows);
        } else if (id == 6 && ty == PQ__TT_BINARY) {
            f->created_by = pq__tr_binary(&t, &f->created_by_n);
        } else if ((id == 2 || id == 4 || id == 5 || id == 7) && ty == PQ__TT_LIST && !seen[id]) {
            seen[id] = 1;
            parse_struct_list(&t, id, f);
        } else {
            pq__tr_skip(&t, ty);
        }
    }
    if (t.bad) {
        ut_err(err, errlen, "corrupt footer: %s", t.msg);
        goto fail;
    }
    if (f->nschema < 1) {
        ut_err(err, errlen, "corrupt footer: no schema");
        goto fail;
    }
    return 0;
fail:
    pq__fmd_free(f);
    return -1;
}

void pq__fmd_free(pq__fmd *f)
{
    for (int i = 0; i < f->nrg; i++) free(f->rgs[i].cols);
    free(f->rgs);
    free(f->schema);
    free(f->kv);
    free(f->colorders);
    memset(f, 0, sizeof *f);
}

/* ---- PageHeader ------------------------------------------------------------ */

static void parse_data_header(pq__tr *t, pq__page_header *h, int v2)
{
    int id, ty;
    pq__tr_struct_begin(t);
    while (pq__tr_field(t, &id, &ty)) {
        if (!v2) {
            switch (id) {
            case 1: get_i32(t, ty, &h->num_values); break;
            case 2: get_int(t, ty, &h->encoding); break;
            case 3: get_int(t, ty, &h->def_encoding); break;
            case 4: get_int(t, ty, &h->rep_encoding); break;
            default: pq__tr_skip(t, ty); break;
            }
        } else {
            switch (id) {
            case 1: get_i32(t, ty, &h->num_values); break;
            case 2: get_i32(t, ty, &h->num_nulls); break;
            case 3: get_i32(t, ty, &h->num_rows); break;
            case 4: get_int(t, ty, &h->encoding); break;
            case 5: get_i32(t, ty, &h->def_len); break;
            case 6: get_i32(t, ty, &h->rep_len); break;
            case 7:
                if (ty == PQ__TT_TRUE || ty == PQ__TT_FALSE) h->is_compressed = ty == PQ__TT_TRUE;
                else pq__tr_skip(t, ty);
                break;
            default: pq__tr_skip(t, ty); break;
            }
        }
    }
    pq__tr_struct_end(t);
}

static void parse_dict_header(pq__tr *t, pq__page_header *h)
{
    int id, ty;
    pq__tr_struct_begin(t);
    while (pq__tr_field(t, &id, &ty)) {
        if (id == 1) get_i32(t, ty, &h->dict_num_values);
        else if (id == 2) get_int(t, ty, &h->dict_encoding);
        else pq__tr_skip(t, ty);
    }
    pq__tr_struct_end(t);
}

int pq__page_header_parse(const uint8_t *p, size_t n, pq__page_header *h, size_t *used,
                          char *err, size_t errlen)
{
    pq__tr t;
    int id, ty;
    memset(h, 0, sizeof *h);
    h->type = -1;
    h->is_compressed = 1;
    h->uncompressed = h->compressed = -1;
    pq__tr_init(&t, p, n);
    while (pq__tr_field(&t, &id, &ty)) {
        switch (id) {
        case 1: get_int(&t, ty, &h->type); break;
        case 2: get_i32(&t, ty, &h->uncompressed); break;
        case 3: get_i32(&t, ty, &h->compressed); break;
        case 4:
            if (is_int(ty)) {
                int64_t v = read_int(&t, ty);
                h->has_crc = 1;
                h->crc = (uint32_t)v;
            } else {
                pq__tr_skip(&t, ty);
            }
            break;
        case 5:
            if (want(&t, ty, PQ__TT_STRUCT)) {
                h->has_data_header = 1;
                parse_data_header(&t, h, 0);
            }
            break;
        case 7:
            if (want(&t, ty, PQ__TT_STRUCT)) {
                h->has_dict_header = 1;
                parse_dict_header(&t, h);
            }
            break;
        case 8:
            if (want(&t, ty, PQ__TT_STRUCT)) {
                h->has_v2_header = 1;
                parse_data_header(&t, h, 1);
            }
            break;
        default: pq__tr_skip(&t, ty); break;
        }
    }
    if (t.bad) return ut_err(err, errlen, "corrupt page header: %s", t.msg);
    if (h->uncompressed < 0 || h->compressed < 0)
        return ut_err(err, errlen, "corrupt page header: missing or negative page sizes");
    *used = (size_t)(t.p - p);
    return 0;
}
