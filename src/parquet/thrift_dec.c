/* Thrift compact protocol decoder (the inverse of thrift_enc.c), bounded:
 * every length is checked against the remaining input, nesting is capped at
 * PQ__TR_MAX_DEPTH, and errors are sticky (see read_int.h). */
#include "parquet/read_int.h"

void pq__tr_init(pq__tr *t, const void *p, size_t n)
{
    t->p = p;
    t->end = t->p + n;
    t->depth = 0;
    t->bad = 0;
    t->msg = NULL;
    t->last[0] = 0;
}

void pq__tr_fail(pq__tr *t, const char *msg)
{
    if (!t->bad) {
        t->bad = 1;
        t->msg = msg;
    }
    t->p = t->end;
}

static uint64_t uvarint(pq__tr *t)
{
    uint64_t v = 0;
    for (int shift = 0; shift < 64; shift += 7) {
        if (t->p >= t->end) {
            pq__tr_fail(t, "truncated varint");
            return 0;
        }
        uint8_t b = *t->p++;
        v |= (uint64_t)(b & 0x7f) << shift;
        if (!(b & 0x80)) return v;
    }
    pq__tr_fail(t, "varint too long");
    return 0;
}

int64_t pq__tr_i64(pq__tr *t)
{
    uint64_t u = uvarint(t);
    return (int64_t)(u >> 1) ^ -(int64_t)(u & 1);
}

int32_t pq__tr_i32(pq__tr *t)
{
    int64_t v = pq__tr_i64(t);
    if (v < INT32_MIN || v > INT32_MAX) {
        pq__tr_fail(t, "i32 value out of range");
        return 0;
    }
    return (int32_t)v;
}

int pq__tr_field(pq__tr *t, int *id, int *type)
{
    if (t->bad) return 0;
    if (t->p >= t->end) {
        pq__tr_fail(t, "truncated struct (no STOP)");
        return 0;
    }
    uint8_t b = *t->p++;
    if (b == PQ__TT_STOP) return 0;
    int ty = b & 0x0f, delta = b >> 4;
    int fid;
    if (delta) {
        fid = t->last[t->depth] + delta;
    } else {
        int64_t v = pq__tr_i64(t);
        if (v < INT16_MIN || v > INT16_MAX) {
            pq__tr_fail(t, "field id out of range");
            return 0;
        }
        fid = (int)v;
    }
    if (ty < PQ__TT_TRUE || ty > PQ__TT_STRUCT) {
        pq__tr_fail(t, "unknown thrift field type");
        return 0;
    }
    if (t->bad) return 0;
    t->last[t->depth] = (int16_t)fid;
    *id = fid;
    *type = ty;
    return 1;
}

void pq__tr_struct_begin(pq__tr *t)
{
    if (t->bad) return;
    if (t->depth >= PQ__TR_MAX_DEPTH) {
        pq__tr_fail(t, "thrift nesting too deep");
        return;
    }
    t->depth++;
    t->last[t->depth] = 0;
}

void pq__tr_struct_end(pq__tr *t)
{
    if (t->depth > 0) t->depth--;
}

const uint8_t *pq__tr_binary(pq__tr *t, size_t *n)
{
    uint64_t len = uvarint(t);
    *n = 0;
    if (t->bad) return NULL;
    if (len > (uint64_t)(t->end - t->p)) {
        pq__tr_fail(t, "binary length beyond the end of the input");
        return NULL;
    }
    const uint8_t *p = t->p;
    t->p += len;
    *n = (size_t)len;
    return p;
}

int pq__tr_list(pq__tr *t, int *elem_type)
{
    *elem_type = 0;
    if (t->bad) return 0;
    if (t->p >= t->end) {
        pq__tr_fail(t, "truncated list header");
        return 0;
    }
    uint8_t b = *t->p++;
    uint64_t n = b >> 4;
    if (n == 15) n = uvarint(t);
    *elem_type = b & 0x0f;
    if (t->bad) return 0;
    /* every element takes at least one byte (bools too: one byte each) */
    if (n > (uint64_t)(t->end - t->p) || n > INT32_MAX) {
        pq__tr_fail(t, "list length beyond the end of the input");
        return 0;
    }
    return (int)n;
}

int pq__tr_list_bool(pq__tr *t)
{
    if (t->bad) return 0;
    if (t->p >= t->end) {
        pq__tr_fail(t, "truncated bool");
        return 0;
    }
    return *t->p++ == 1;
}

static void skip_n(pq__tr *t, size_t n)
{
    if ((size_t)(t->end - t->p) < n) {
        pq__tr_fail(t, "truncated value");
        return;
    }
    t->p += n;
}

void pq__tr_skip(pq__tr *t, int type)
{
    size_t n;
    int et;
    if (t->bad) return;
    switch (type) {
    case PQ__TT_TRUE:
    case PQ__TT_FALSE: return; /* value is in the field header */
    case PQ__TT_BYTE: skip_n(t, 1); return;
    case PQ__TT_I16:
    case PQ__TT_I32:
    case PQ__TT_I64: (void)uvarint(t); return;
    case PQ__TT_DOUBLE: skip_n(t, 8); return;
    case PQ__TT_BINARY: (void)pq__tr_binary(t, &n); return;
    case PQ__TT_LIST:
    case PQ__TT_SET: {
        int cnt = pq__tr_list(t, &et);
        if (t->depth >= PQ__TR_MAX_DEPTH) {
            pq__tr_fail(t, "thrift nesting too deep");
            return;
        }
        t->depth++;
        t->last[t->depth] = 0;
        for (int i = 0; i < cnt && !t->bad; i++) {
            if (et == PQ__TT_TRUE || et == PQ__TT_FALSE) skip_n(t, 1);
            else pq__tr_skip(t, et);
        }
        t->depth--;
        return;
    }
    case PQ__TT_MAP: {
        uint64_t cnt = uvarint(t);
        if (t->bad || cnt == 0) return;
        if (cnt > (uint64_t)(t->end - t->p)) {
            pq__tr_fail(t, "map length beyond the end of the input");
            return;
        }
        if (t->p >= t->end) {
            pq__tr_fail(t, "truncated map header");
            return;
        }
        uint8_t kv = *t->p++;
        if (t->depth >= PQ__TR_MAX_DEPTH) {
            pq__tr_fail(t, "thrift nesting too deep");
            return;
        }
        t->depth++;
        t->last[t->depth] = 0;
        for (uint64_t i = 0; i < cnt && !t->bad; i++) {
            int kt = kv >> 4, vt = kv & 0x0f;
            if (kt == PQ__TT_TRUE || kt == PQ__TT_FALSE) skip_n(t, 1);
            else pq__tr_skip(t, kt);
            if (vt == PQ__TT_TRUE || vt == PQ__TT_FALSE) skip_n(t, 1);
            else pq__tr_skip(t, vt);
        }
        t->depth--;
        return;
    }
    case PQ__TT_STRUCT: {
        int id, ty;
        pq__tr_struct_begin(t);
        while (pq__tr_field(t, &id, &ty)) pq__tr_skip(t, ty);
        pq__tr_struct_end(t);
        return;
    }
    default: pq__tr_fail(t, "unknown thrift type"); return;
    }
}
