/* pgfed types: PostgreSQL type names to kinds, SQLite declared types,
 * identifier quoting, and PostgreSQL text values to SQLite results. */
#include "pgfed/pgf_int.h"

#include <errno.h>
#include <stdlib.h>
#include <string.h>

pgf_kind pgf__kind(const char *t)
{
    static const struct {
        const char *name;
        pgf_kind kind;
    } map[] = {{"int2", PGF_INT},          {"int4", PGF_INT},          {"int8", PGF_INT},
               {"oid", PGF_INT},           {"bool", PGF_BOOL},         {"float8", PGF_FLOAT8},
               {"float4", PGF_FLOAT4},     {"numeric", PGF_NUMERIC},   {"text", PGF_TEXT},
               {"varchar", PGF_TEXT},      {"name", PGF_TEXT},         {"bpchar", PGF_BPCHAR},
               {"timestamp", PGF_TS},      {"timestamptz", PGF_TSTZ},  {"date", PGF_DATE},
               {"bytea", PGF_BYTEA}};
    for (size_t i = 0; t && i < sizeof map / sizeof map[0]; i++)
        if (!strcmp(t, map[i].name)) return map[i].kind;
    return PGF_OTHER;
}

const char *pgf__decltype(pgf_kind k)
{
    switch (k) {
    case PGF_INT:
    case PGF_BOOL: return "INTEGER";
    case PGF_FLOAT8:
    case PGF_FLOAT4:
    case PGF_NUMERIC: return "REAL";
    case PGF_BYTEA: return "BLOB";
    default: return "TEXT";
    }
}

static int hexval(char c)
{
    if (c >= '0' && c <= '9') return c - '0';
    if (c >= 'a' && c <= 'f') return c - 'a' + 10;
    if (c >= 'A' && c <= 'F') return c - 'A' + 10;
    return -1;
}

/* bytea hex output "\x0a1b..." as a blob; -1 if v is not that form. */
static int result_bytea(sqlite3_context *ctx, const char *v, int n)
{
    if (n < 2 || v[0] != '\\' || v[1] != 'x' || (n - 2) % 2) return -1;
    int bn = (n - 2) / 2;
    uint8_t *out = sqlite3_malloc(bn ? bn : 1);
    if (!out) {
        sqlite3_result_error_nomem(ctx);
        return 0;
    }
    for (int i = 0; i < bn; i++) {
        int hi = hexval(v[2 + 2 * i]), lo = hexval(v[3 + 2 * i]);
        if (hi < 0 || lo < 0) {
            sqlite3_free(out);
            return -1;
        }
        out[i] = (uint8_t)(hi << 4 | lo);
    }
    sqlite3_result_blob(ctx, out, bn, sqlite3_free);
    return 0;
}

/* "2024-05-01 12:00:00.5+00" (the session is UTC) or without the offset:
 * RFC 3339 UTC.  -1 for what does not parse (infinity, BC, year > 9999). */
static int result_ts(sqlite3_context *ctx, const char *v, int n)
{
    char out[40];
    int64_t us;
    size_t len = (size_t)n;
    if (len > 3 && v[len - 3] == '+' && v[len - 2] == '0' && v[len - 1] == '0') len -= 3;
    if (len < 19 || len > 32 || ut_ts_parse(v, len, &us)) return -1;
    int m = ut_ts_format(out, us);
    sqlite3_result_text(ctx, out, m, SQLITE_TRANSIENT);
    return 0;
}

void pgf__result(sqlite3_context *ctx, pgf_kind k, const char *v, int n)
{
    char num[64], *end;
    if ((k == PGF_INT || k == PGF_FLOAT8 || k == PGF_FLOAT4 || k == PGF_NUMERIC) &&
        n < (int)sizeof num) {
        memcpy(num, v, (size_t)n);
        num[n] = 0;
        errno = 0;
        if (k == PGF_INT) {
            long long x = strtoll(num, &end, 10);
            if (!errno && end != num && !*end) {
                sqlite3_result_int64(ctx, x);
                return;
            }
        } else if (k == PGF_FLOAT4) {
            float f = strtof(num, &end); /* widened like PostgreSQL's float4::float8 */
            if (end != num && !*end) {
                sqlite3_result_double(ctx, (double)f);
                return;
            }
        } else {
            double d = strtod(num, &end);
            if (end != num && !*end) {
                sqlite3_result_double(ctx, d);
                return;
            }
        }
    } else if (k == PGF_BOOL && n == 1 && (v[0] == 't' || v[0] == 'f')) {
        sqlite3_result_int(ctx, v[0] == 't');
        return;
    } else if (k == PGF_BYTEA) {
        if (!result_bytea(ctx, v, n)) return;
    } else if (k == PGF_TS || k == PGF_TSTZ) {
        if (!result_ts(ctx, v, n)) return;
    }
    sqlite3_result_text(ctx, v, n, SQLITE_TRANSIENT);
}
