/* Writer: the footer (FileMetaData, thrift compact).
 *
 *   ... last row group | FileMetaData | le32 length of FileMetaData | "PAR1"
 */
#include "parquet/writer_int.h"

#include <stdlib.h>
#include <string.h>

/* LogicalType TIME (member 7) or TIMESTAMP (member 8) in MICROS. */
static void time_logical(pq__tw *t, int member, int utc)
{
    pq__tw_struct_begin(t, 10);
    pq__tw_struct_begin(t, member);
    pq__tw_bool(t, 1, utc);    /* isAdjustedToUTC */
    pq__tw_struct_begin(t, 2); /* unit */
    pq__tw_struct_begin(t, 2); /* MICROS */
    pq__tw_struct_end(t);
    pq__tw_struct_end(t);
    pq__tw_struct_end(t);
    pq__tw_struct_end(t);
}

/* Field ids ascend: 1 type, 2 type_length, 3 repetition, 4 name,
 * 6 converted_type, 7 scale, 8 precision, 10 logicalType. */
static void schema_element(pq__tw *t, const pq__wcol *c)
{
    pq__tw_elem_struct_begin(t);
    pq__tw_i32(t, 1, c->phys);
    if (c->phys == PQ__FIXED_LEN_BYTE_ARRAY) pq__tw_i32(t, 2, c->width);
    pq__tw_i32(t, 3, c->optional ? PQ__OPTIONAL : PQ__REQUIRED);
    pq__tw_string(t, 4, c->name);
    switch (c->type) {
    case PQ_STRING:
        pq__tw_i32(t, 6, PQ__CT_UTF8);
        pq__tw_struct_begin(t, 10);
        pq__tw_struct_begin(t, 1); /* StringType */
        pq__tw_struct_end(t);
        pq__tw_struct_end(t);
        break;
    case PQ_TIMESTAMP:
    case PQ_TIMESTAMP_NTZ:
        /* TIMESTAMP_MICROS for both: readers that only know ConvertedType
         * (older Spark / Hive) still see microseconds */
        pq__tw_i32(t, 6, PQ__CT_TIMESTAMP_MICROS);
        time_logical(t, 8, c->type == PQ_TIMESTAMP);
        break;
    case PQ_TIME:
        /* no ConvertedType: TIME_MICROS would claim isAdjustedToUTC=true */
        time_logical(t, 7, 0);
        break;
    case PQ_DATE:
        pq__tw_i32(t, 6, PQ__CT_DATE);
        pq__tw_struct_begin(t, 10);
        pq__tw_struct_begin(t, 6); /* DateType */
        pq__tw_struct_end(t);
        pq__tw_struct_end(t);
        break;
    case PQ_DECIMAL:
        /* ConvertedType + scale/precision too: Spark and Hive read those */
        pq__tw_i32(t, 6, PQ__CT_DECIMAL);
        pq__tw_i32(t, 7, c->scale);
        pq__tw_i32(t, 8, c->precision);
        pq__tw_struct_begin(t, 10);
        pq__tw_struct_begin(t, 5); /* DecimalType */
        pq__tw_i32(t, 1, c->scale);
        pq__tw_i32(t, 2, c->precision);
        pq__tw_struct_end(t);
        pq__tw_struct_end(t);
        break;
    default:
        break;
    }
    pq__tw_struct_end(t);
}

static int legacy_stats_ok(int phys)
{
    /* The deprecated min/max fields use signed comparison: right for numbers
     * and booleans, wrong (or at least ambiguous: readers compare them as
     * bytes) for byte arrays; FLBA decimals get min_value/max_value only. */
    return phys != PQ__BYTE_ARRAY && phys != PQ__FIXED_LEN_BYTE_ARRAY;
}

static void column_chunk(pq__tw *t, const pq__wcol *c, const pq__chunk_meta *m, pq_codec codec)
{
    pq__tw_elem_struct_begin(t);
    pq__tw_i64(t, 2, m->dict_offset >= 0 ? m->dict_offset : m->data_offset);
    pq__tw_struct_begin(t, 3);
    pq__tw_i32(t, 1, c->phys);
    int nenc = 0;
    for (int e = 0; e < 32; e++) nenc += (m->encodings >> e) & 1;
    pq__tw_list_begin(t, 2, PQ__TT_I32, nenc);
    for (int e = 0; e < 32; e++)
        if ((m->encodings >> e) & 1) pq__tw_elem_i32(t, e);
    pq__tw_list_begin(t, 3, PQ__TT_BINARY, 1);
    pq__tw_elem_binary(t, c->name, strlen(c->name));
    pq__tw_i32(t, 4, (int32_t)codec);
    pq__tw_i64(t, 5, m->values);
    pq__tw_i64(t, 6, m->uncompressed);
    pq__tw_i64(t, 7, m->compressed);
    pq__tw_i64(t, 9, m->data_offset);
    if (m->dict_offset >= 0) pq__tw_i64(t, 11, m->dict_offset);
    pq__tw_struct_begin(t, 12); /* Statistics */
    if (m->has_minmax && legacy_stats_ok(c->phys)) {
        pq__tw_binary(t, 1, m->max, m->max_len);
        pq__tw_binary(t, 2, m->min, m->min_len);
    }
    pq__tw_i64(t, 3, m->nulls);
    if (m->has_minmax) {
        pq__tw_binary(t, 5, m->max, m->max_len);
        pq__tw_binary(t, 6, m->min, m->min_len);
    }
    pq__tw_struct_end(t);
    pq__tw_struct_end(t); /* ColumnMetaData */
    pq__tw_struct_end(t); /* ColumnChunk */
}

int pq__write_footer(pq_writer *w, char *err, size_t errlen)
{
    ut_buf *b = &w->scratch;
    ut_buf_reset(b);
    pq__tw t = {.b = b};
    pq__tw_i32(&t, 1, 2); /* version */
    pq__tw_list_begin(&t, 2, PQ__TT_STRUCT, w->ncols + 1);
    pq__tw_elem_struct_begin(&t); /* root */
    pq__tw_string(&t, 4, "schema");
    pq__tw_i32(&t, 5, w->ncols);
    pq__tw_struct_end(&t);
    for (int i = 0; i < w->ncols; i++) schema_element(&t, &w->cols[i]);
    pq__tw_i64(&t, 3, w->rows);
    pq__tw_list_begin(&t, 4, PQ__TT_STRUCT, w->nrg);
    for (int r = 0; r < w->nrg; r++) {
        const pq__rg_meta *rg = &w->rgs[r];
        pq__tw_elem_struct_begin(&t);
        pq__tw_list_begin(&t, 1, PQ__TT_STRUCT, w->ncols);
        for (int i = 0; i < w->ncols; i++)
            column_chunk(&t, &w->cols[i], &rg->chunks[i], w->o.codec);
        pq__tw_i64(&t, 2, rg->uncompressed);
        pq__tw_i64(&t, 3, rg->rows);
        pq__tw_i64(&t, 5, rg->offset);
        pq__tw_i64(&t, 6, rg->compressed);
        pq__tw_struct_end(&t);
    }
    if (w->nkv) {
        pq__tw_list_begin(&t, 5, PQ__TT_STRUCT, w->nkv);
        for (int i = 0; i < w->nkv; i++) {
            pq__tw_elem_struct_begin(&t);
            pq__tw_string(&t, 1, w->kv[2 * i]);
            if (w->kv[2 * i + 1]) pq__tw_string(&t, 2, w->kv[2 * i + 1]);
            pq__tw_struct_end(&t);
        }
    }
    pq__tw_string(&t, 6, w->created_by);
    pq__tw_list_begin(&t, 7, PQ__TT_STRUCT, w->ncols);
    for (int i = 0; i < w->ncols; i++) {
        pq__tw_elem_struct_begin(&t);
        pq__tw_struct_begin(&t, 1); /* TYPE_ORDER: TypeDefinedOrder */
        pq__tw_struct_end(&t);
        pq__tw_struct_end(&t);
    }
    pq__tw_end(&t);
    ut_buf_put_le32(b, (uint32_t)b->len);
    ut_buf_put(b, "PAR1", 4);
    /* the chunks' min/max stay until pq_writer_destroy: pq_writer_column_stats */
    return pq__write_all(w, b->p, b->len, err, errlen);
}
