/* sluice schema — show a Parquet file's schema, row groups, encodings and
 * statistics, as text or (--json) as one JSON object:
 *
 *   {"file":..., "rows":N, "row_groups":N, "created_by":...|null,
 *    "key_value_metadata":[{"key":...,"value":...|null}, ...],
 *    "columns":[{"name","physical","type","logical","optional",
 *                "type_length"?, "precision"?, "scale"?}, ...],
 *    "groups":[{"rows":N, "columns":[{"name","codec","encodings":[...],
 *                "compressed_bytes","uncompressed_bytes","values",
 *                "null_count"?, "min"?, "max"?}, ...]}, ...]}
 *
 * min/max appear only when the statistics are trustworthy (pq_reader_chunk);
 * they are formatted as `sluice cat` formats values. */
#include "cli/cli.h"
#include "cli/pqfmt.h"
#include "parquet/parquet.h"

#include <stdio.h>
#include <string.h>

static const char *physical_name(int p)
{
    static const char *n[] = {"BOOLEAN", "INT32", "INT64", "INT96", "FLOAT", "DOUBLE",
                              "BYTE_ARRAY", "FIXED_LEN_BYTE_ARRAY"};
    return p >= 0 && p < 8 ? n[p] : "?";
}

static const char *encoding_name(int e)
{
    static const char *n[] = {"PLAIN", "GROUP_VAR_INT", "PLAIN_DICTIONARY", "RLE", "BIT_PACKED",
                              "DELTA_BINARY_PACKED", "DELTA_LENGTH_BYTE_ARRAY", "DELTA_BYTE_ARRAY",
                              "RLE_DICTIONARY", "BYTE_STREAM_SPLIT"};
    return e >= 0 && e < 10 ? n[e] : "?";
}

static void jstr(ut_buf *b, const char *s)
{
    if (!s) ut_buf_puts(b, "null");
    else cli_pf_json_str(b, (const uint8_t *)s, strlen(s));
}

static const char *codec_text(pq_codec c)
{
    const char *n = pq_codec_name(c);
    return n ? n : "?";
}

static void json_out(pq_reader *r, const char *path, ut_buf *b)
{
    pq_column_info ci;
    pq_chunk_info ch;
    ut_buf_puts(b, "{\"file\":");
    jstr(b, path);
    ut_buf_printf(b, ",\"rows\":%lld,\"row_groups\":%d,\"created_by\":",
                  (long long)pq_reader_num_rows(r), pq_reader_num_row_groups(r));
    jstr(b, pq_reader_created_by(r));
    ut_buf_puts(b, ",\"key_value_metadata\":[");
    for (int i = 0; i < pq_reader_num_kv(r); i++) {
        const char *k, *v;
        pq_reader_kv(r, i, &k, &v);
        ut_buf_puts(b, i ? ",{\"key\":" : "{\"key\":");
        jstr(b, k);
        ut_buf_puts(b, ",\"value\":");
        jstr(b, v);
        ut_buf_putc(b, '}');
    }
    ut_buf_puts(b, "],\"columns\":[");
    for (int c = 0; c < pq_reader_num_columns(r); c++) {
        pq_reader_column(r, c, &ci);
        ut_buf_puts(b, c ? ",{\"name\":" : "{\"name\":");
        jstr(b, ci.name);
        ut_buf_printf(b, ",\"physical\":\"%s\",\"type\":\"%s\",\"logical\":", physical_name(ci.physical),
                      pq_type_name(ci.type));
        jstr(b, ci.logical);
        ut_buf_printf(b, ",\"optional\":%s", ci.optional ? "true" : "false");
        if (ci.physical == 7) ut_buf_printf(b, ",\"type_length\":%d", ci.type_length);
        if (ci.type == PQ_DECIMAL) ut_buf_printf(b, ",\"precision\":%d,\"scale\":%d", ci.precision, ci.scale);
        ut_buf_putc(b, '}');
    }
    ut_buf_puts(b, "],\"groups\":[");
    for (int g = 0; g < pq_reader_num_row_groups(r); g++) {
        ut_buf_printf(b, "%s{\"rows\":%lld,\"columns\":[", g ? "," : "",
                      (long long)pq_reader_row_group_rows(r, g));
        for (int c = 0; c < pq_reader_num_columns(r); c++) {
            pq_reader_column(r, c, &ci);
            pq_reader_chunk(r, g, c, &ch);
            ut_buf_puts(b, c ? ",{\"name\":" : "{\"name\":");
            jstr(b, ci.name);
            ut_buf_printf(b, ",\"codec\":\"%s\",\"encodings\":[", codec_text(ch.codec));
            for (int e = 0; e < ch.num_encodings; e++)
                ut_buf_printf(b, "%s\"%s\"", e ? "," : "", encoding_name(ch.encodings[e]));
            ut_buf_printf(b, "],\"compressed_bytes\":%lld,\"uncompressed_bytes\":%lld,\"values\":%lld",
                          (long long)ch.compressed_bytes, (long long)ch.uncompressed_bytes,
                          (long long)ch.num_values);
            if (ch.stats.has_null_count)
                ut_buf_printf(b, ",\"null_count\":%lld", (long long)ch.stats.null_count);
            if (ch.stats.has_min_max) {
                ut_buf_puts(b, ",\"min\":");
                cli_pf_json_stat(b, ci.type, &ch.stats.min);
                ut_buf_puts(b, ",\"max\":");
                cli_pf_json_stat(b, ci.type, &ch.stats.max);
            }
            ut_buf_putc(b, '}');
        }
        ut_buf_puts(b, "]}");
    }
    ut_buf_puts(b, "]}\n");
}

/* Text value, truncated to 200 bytes for display. */
static void short_text(ut_buf *b, const char *s)
{
    size_t n = s ? strlen(s) : 0;
    if (!s) {
        ut_buf_puts(b, "(none)");
        return;
    }
    cli_pf_json_str(b, (const uint8_t *)s, n > 200 ? 200 : n);
    if (n > 200) ut_buf_printf(b, "... (%zu bytes)", n);
}

static void text_out(pq_reader *r, const char *path, ut_buf *b)
{
    pq_column_info ci;
    pq_chunk_info ch;
    ut_buf_printf(b, "file:        %s\nrows:        %lld\nrow groups:  %d\ncreated by:  ", path,
                  (long long)pq_reader_num_rows(r), pq_reader_num_row_groups(r));
    ut_buf_puts(b, pq_reader_created_by(r) ? pq_reader_created_by(r) : "(unknown)");
    ut_buf_putc(b, '\n');
    if (pq_reader_num_kv(r)) ut_buf_puts(b, "key/value metadata:\n");
    for (int i = 0; i < pq_reader_num_kv(r); i++) {
        const char *k, *v;
        pq_reader_kv(r, i, &k, &v);
        ut_buf_puts(b, "  ");
        short_text(b, k);
        ut_buf_puts(b, " = ");
        short_text(b, v);
        ut_buf_putc(b, '\n');
    }
    ut_buf_printf(b, "columns (%d):\n", pq_reader_num_columns(r));
    for (int c = 0; c < pq_reader_num_columns(r); c++) {
        pq_reader_column(r, c, &ci);
        ut_buf_printf(b, "  %-24s %-20s %-10s %-9s %s\n", ci.name, physical_name(ci.physical),
                      pq_type_name(ci.type), ci.optional ? "optional" : "required",
                      ci.logical[0] ? ci.logical : "-");
    }
    for (int g = 0; g < pq_reader_num_row_groups(r); g++) {
        ut_buf_printf(b, "row group %d: %lld rows\n", g, (long long)pq_reader_row_group_rows(r, g));
        for (int c = 0; c < pq_reader_num_columns(r); c++) {
            pq_reader_column(r, c, &ci);
            pq_reader_chunk(r, g, c, &ch);
            ut_buf_printf(b, "  %s: %s, ", ci.name, codec_text(ch.codec));
            for (int e = 0; e < ch.num_encodings; e++)
                ut_buf_printf(b, "%s%s", e ? "," : "", encoding_name(ch.encodings[e]));
            ut_buf_printf(b, ", %lld -> %lld bytes, %lld values", (long long)ch.compressed_bytes,
                          (long long)ch.uncompressed_bytes, (long long)ch.num_values);
            if (ch.stats.has_null_count) ut_buf_printf(b, ", nulls %lld", (long long)ch.stats.null_count);
            if (ch.stats.has_min_max) {
                ut_buf_puts(b, ", min ");
                cli_pf_text_stat(b, ci.type, &ch.stats.min);
                ut_buf_puts(b, ", max ");
                cli_pf_text_stat(b, ci.type, &ch.stats.max);
            }
            ut_buf_putc(b, '\n');
        }
    }
}

int cli_schema(int argc, char **argv)
{
    static int json;
    static const cli_flag flags[] = {{"json", 'j', CLI_BOOL, &json, NULL, "one JSON object"}, {0}};
    static const cli_cmd cmd = {"schema", "FILE.parquet",
                                "show a Parquet file's schema, row groups, encodings and statistics",
                                flags, 1, 1, NULL};
    char *pos[1], err[512];
    int npos, rc = 0;
    ut_buf out = {0};
    int prc = cli_parse(&cmd, argc, argv, pos, &npos);
    if (prc >= 0) return prc;
    pq_reader *r = pq_reader_open(pos[0], err, sizeof err);
    if (!r) {
        cli_errorf("schema", "%s", err);
        return 1;
    }
    if (json) json_out(r, pos[0], &out);
    else text_out(r, pos[0], &out);
    if (fwrite(out.p, 1, out.len, stdout) != out.len || fflush(stdout)) {
        cli_errorf("schema", "write error on standard output");
        rc = 1;
    }
    ut_buf_free(&out);
    pq_reader_destroy(r);
    return rc;
}
