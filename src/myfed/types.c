/* myfed types: MySQL column types to kinds, collations to flags, SQLite
 * declared types, identifier quoting, and MySQL text values to SQLite
 * results in the lake's forms. */
#include "myfed/myf_int.h"

#include <errno.h>
#include <stdlib.h>
#include <string.h>

static int is_one_of(const char *s, const char *const *list, size_t n)
{
    for (size_t i = 0; i < n; i++)
        if (!strcmp(s, list[i])) return 1;
    return 0;
}

myf_kind myf__kind(const char *dt, const char *ct)
{
    static const char *const ints[] = {"tinyint", "smallint", "mediumint", "int", "integer",
                                       "bigint"};
    static const char *const strs[] = {"char", "varchar", "tinytext", "text", "mediumtext",
                                       "longtext", "enum", "set"};
    static const char *const bins[] = {"binary", "varbinary", "tinyblob", "blob",
                                       "mediumblob", "longblob"};
    static const char *const geoms[] = {"geometry", "point", "linestring", "polygon",
                                        "multipoint", "multilinestring", "multipolygon",
                                        "geometrycollection"};
#define IN_LIST(l) is_one_of(dt, l, sizeof l / sizeof *l)
    if (!dt) return MYF_OTHER;
    if (!ct) ct = "";
    if (!strcmp(dt, "bigint") && strstr(ct, "unsigned")) return MYF_UINT64;
    if (IN_LIST(ints)) return MYF_INT;
    if (!strcmp(dt, "year")) return MYF_YEAR;
    if (!strcmp(dt, "bit")) return MYF_BIT;
    if (!strcmp(dt, "float")) return MYF_FLOAT;
    if (!strcmp(dt, "double") || !strcmp(dt, "real")) return MYF_DOUBLE;
    if (!strcmp(dt, "decimal") || !strcmp(dt, "numeric")) return MYF_DECIMAL;
    if (!strcmp(dt, "date")) return MYF_DATE;
    if (!strcmp(dt, "datetime")) return MYF_DATETIME;
    if (!strcmp(dt, "timestamp")) return MYF_TIMESTAMP;
    if (IN_LIST(strs)) return MYF_STRING;
    if (IN_LIST(bins)) return MYF_BLOB;
    if (IN_LIST(geoms)) return MYF_GEOM;
    return MYF_OTHER;
#undef IN_LIST
}

int myf__coll_flags(const char *cs, const char *coll)
{
    int f = 0;
    if (cs && (!strcmp(cs, "utf8mb4") || !strcmp(cs, "utf8mb3") || !strcmp(cs, "utf8") ||
               !strcmp(cs, "ascii")))
        f |= MYF_UTF8;
    if (!coll) return f;
    size_t n = strlen(coll);
    if (strstr(coll, "_ci")) f |= MYF_CI;
    if (n >= 4 && !strcmp(coll + n - 4, "_bin")) f |= MYF_BIN;
    /* MySQL 8's UCA 9.0.0 collations and MariaDB's _nopad_ ones do not pad */
    if (strstr(coll, "_0900_") || strstr(coll, "nopad")) f |= MYF_NOPAD;
    return f;
}

const char *myf__decltype(myf_kind k)
{
    switch (k) {
    case MYF_INT:
    case MYF_UINT64:
    case MYF_YEAR:
    case MYF_BIT: return "INTEGER";
    case MYF_FLOAT:
    case MYF_DOUBLE:
    case MYF_DECIMAL: return "REAL";
    case MYF_BLOB:
    case MYF_GEOM: return "BLOB";
    default: return "TEXT";
    }
}

/* An integer, or a number beyond int64 as REAL; 0, or -1 if v is not one. */
static int result_int(sqlite3_context *ctx, const char *num, int uns)
{
    char *end;
    errno = 0;
    if (uns) {
        unsigned long long u = strtoull(num, &end, 10);
        if (errno || end == num || *end || num[0] == '-') return -1;
        if (u <= (unsigned long long)INT64_MAX) sqlite3_result_int64(ctx, (sqlite3_int64)u);
        else sqlite3_result_double(ctx, (double)u);
        return 0;
    }
    long long x = strtoll(num, &end, 10);
    if (!errno && end != num && !*end) {
        sqlite3_result_int64(ctx, x);
        return 0;
    }
    return -1;
}

/* BIT(n): up to 8 big-endian bytes. */
static void result_bit(sqlite3_context *ctx, const char *v, unsigned long n)
{
    uint64_t x = 0;
    for (unsigned long i = 0; i < n && i < 8; i++) x = x << 8 | (uint8_t)v[i];
    if (x <= (uint64_t)INT64_MAX) sqlite3_result_int64(ctx, (sqlite3_int64)x);
    else sqlite3_result_double(ctx, (double)x);
}

/* DATETIME / TIMESTAMP "YYYY-MM-DD HH:MM:SS[.ffffff]" in the lake's form;
 * zero and invalid dates (which MySQL may keep) NULL. */
static void result_ts(sqlite3_context *ctx, const char *v, unsigned long n, int utc)
{
    char out[40];
    int64_t us;
    int32_t days;
    if (n < 19 || n > 26 || ut_date_parse(v, 10, &days) || ut_ts_parse(v, n, &us)) return;
    int m = utc ? ut_ts_format(out, us) : ut_ts_format_ntz(out, us);
    sqlite3_result_text(ctx, out, m, SQLITE_TRANSIENT);
}

void myf__result(sqlite3_context *ctx, myf_kind k, const char *v, unsigned long n)
{
    char num[64], *end;
    int32_t days;
    int numeric = k == MYF_INT || k == MYF_UINT64 || k == MYF_YEAR || k == MYF_FLOAT ||
                  k == MYF_DOUBLE || k == MYF_DECIMAL;
    if (numeric && n < sizeof num) {
        memcpy(num, v, n);
        num[n] = 0;
        if (k == MYF_INT || k == MYF_YEAR || k == MYF_UINT64) {
            if (!result_int(ctx, num, k == MYF_UINT64)) return;
        } else {
            double d = strtod(num, &end);
            if (end != num && !*end) {
                sqlite3_result_double(ctx, d);
                return;
            }
        }
    }
    switch (k) {
    case MYF_BIT: result_bit(ctx, v, n); return;
    case MYF_DATE:
        if (n == 10 && !ut_date_parse(v, 10, &days)) sqlite3_result_text(ctx, v, 10, SQLITE_TRANSIENT);
        return; /* '0000-00-00', '2024-02-30': NULL */
    case MYF_DATETIME: result_ts(ctx, v, n, 0); return;
    case MYF_TIMESTAMP: result_ts(ctx, v, n, 1); return;
    case MYF_BLOB:
    case MYF_GEOM: sqlite3_result_blob64(ctx, n ? v : "", n, SQLITE_TRANSIENT); return;
    default: sqlite3_result_text64(ctx, v, n, SQLITE_TRANSIENT, SQLITE_UTF8); return;
    }
}
