/* wh: Redshift — the manifest of a window's lake files and the COPY that
 * reads it.  Redshift's COPY from Parquet needs every entry's
 * meta.content_length; urls are full s3:// urls; mandatory: true so a file
 * that is missing fails the COPY instead of loading less. */
#include "wh/wh.h"

#include <string.h>

static void json_str(ut_buf *b, const char *s)
{
    static const char hex[] = "0123456789abcdef";
    ut_buf_putc(b, '"');
    for (const unsigned char *p = (const unsigned char *)s; *p; p++) {
        if (*p == '"' || *p == '\\') {
            ut_buf_putc(b, '\\');
            ut_buf_putc(b, *p);
        } else if (*p < 0x20) {
            ut_buf_puts(b, "\\u00");
            ut_buf_putc(b, (uint8_t)hex[*p >> 4]);
            ut_buf_putc(b, (uint8_t)hex[*p & 15]);
        } else {
            ut_buf_putc(b, *p);
        }
    }
    ut_buf_putc(b, '"');
}

int wh_manifest(ut_buf *b, const wh_file *f, int n, char *err, size_t errlen)
{
    for (int i = 0; i < n; i++) {
        const char *u = f[i].url;
        const char *slash = !strncmp(u, "s3://", 5) ? strchr(u + 5, '/') : NULL;
        if (!slash || slash == u + 5 || !slash[1])
            return ut_err(err, errlen, "manifest: '%.200s' is not a full s3://bucket/key url", u);
        if (f[i].bytes < 0) return ut_err(err, errlen, "manifest: %.200s: no size", u);
    }
    ut_buf_puts(b, "{\"entries\":[");
    for (int i = 0; i < n; i++) {
        ut_buf_puts(b, i ? ",\n  {\"url\":" : "\n  {\"url\":");
        json_str(b, f[i].url);
        ut_buf_printf(b, ",\"mandatory\":true,\"meta\":{\"content_length\":%lld}}",
                      (long long)f[i].bytes);
    }
    ut_buf_puts(b, n ? "\n]}\n" : "]}\n");
    return 0;
}

void wh_sql_redshift(ut_buf *b, const wh_plan *p, const char *manifest_url, const char *iam_role)
{
    ut_buf_puts(b, "BEGIN;\n");
    if (p->mode == WH_REPLACE_WINDOW) {
        wh_sql_delete_window(b, p);
        ut_buf_puts(b, ";\n");
    }
    ut_buf_puts(b, "COPY ");
    wh_table_ident(b, p->table);
    ut_buf_puts(b, " FROM ");
    wh_literal(b, manifest_url);
    ut_buf_puts(b, " IAM_ROLE ");
    wh_literal(b, iam_role);
    ut_buf_puts(b, " FORMAT AS PARQUET MANIFEST;\nCOMMIT;\n");
}
