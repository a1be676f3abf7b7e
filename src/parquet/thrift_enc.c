/* Thrift compact protocol encoder (enough for Parquet's metadata).
 *
 *   field header:  [delta:4 | type:4]            when 0 < delta <= 15
 *                  [0:4 | type:4] zigzag-varint id   otherwise
 *   bool field:    value carried in the type nibble (1 true, 2 false)
 *   i16/i32/i64:   zigzag varint          binary: uvarint length + bytes
 *   list header:   [size:4 | elem type:4] when size < 15,
 *                  [0xF | elem type] uvarint size otherwise
 *   struct end:    0x00 (STOP)
 */
#include "parquet/internal.h"

static uint64_t zz64(int64_t v)
{
    return ((uint64_t)v << 1) ^ (uint64_t)(v >> 63);
}

static void field(pq__tw *w, int type, int id)
{
    int delta = id - w->last[w->depth];
    if (delta > 0 && delta <= 15) {
        ut_buf_putc(w->b, (uint8_t)((delta << 4) | type));
    } else {
        ut_buf_putc(w->b, (uint8_t)type);
        ut_buf_put_uvarint(w->b, zz64(id));
    }
    w->last[w->depth] = (int16_t)id;
}

void pq__tw_bool(pq__tw *w, int id, int v)
{
    field(w, v ? PQ__TT_TRUE : PQ__TT_FALSE, id);
}

void pq__tw_i32(pq__tw *w, int id, int32_t v)
{
    field(w, PQ__TT_I32, id);
    ut_buf_put_uvarint(w->b, zz64(v));
}

void pq__tw_i64(pq__tw *w, int id, int64_t v)
{
    field(w, PQ__TT_I64, id);
    ut_buf_put_uvarint(w->b, zz64(v));
}

void pq__tw_binary(pq__tw *w, int id, const void *p, size_t n)
{
    field(w, PQ__TT_BINARY, id);
    ut_buf_put_uvarint(w->b, n);
    ut_buf_put(w->b, p, n);
}

void pq__tw_string(pq__tw *w, int id, const char *s)
{
    size_t n = 0;
    while (s[n]) n++;
    pq__tw_binary(w, id, s, n);
}

void pq__tw_struct_begin(pq__tw *w, int id)
{
    field(w, PQ__TT_STRUCT, id);
    pq__tw_elem_struct_begin(w);
}

void pq__tw_elem_struct_begin(pq__tw *w)
{
    w->depth++;
    w->last[w->depth] = 0;
}

void pq__tw_struct_end(pq__tw *w)
{
    ut_buf_putc(w->b, PQ__TT_STOP);
    w->depth--;
}

void pq__tw_list_begin(pq__tw *w, int id, int elem_type, int n)
{
    field(w, PQ__TT_LIST, id);
    if (n < 15) {
        ut_buf_putc(w->b, (uint8_t)((n << 4) | elem_type));
    } else {
        ut_buf_putc(w->b, (uint8_t)(0xF0 | elem_type));
        ut_buf_put_uvarint(w->b, (uint64_t)n);
    }
}

void pq__tw_elem_i32(pq__tw *w, int32_t v)
{
    ut_buf_put_uvarint(w->b, zz64(v));
}

void pq__tw_elem_binary(pq__tw *w, const void *p, size_t n)
{
    ut_buf_put_uvarint(w->b, n);
    ut_buf_put(w->b, p, n);
}

void pq__tw_end(pq__tw *w)
{
    ut_buf_putc(w->b, PQ__TT_STOP);
}
