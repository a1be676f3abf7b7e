/* sum, total and avg as Trino and DuckDB answer them (SQLite's own are
 * replaced on every engine's connection; docs/sql.md):
 *
 *   - integers add exactly in 128 bits: a sum past int64 comes back as a
 *     REAL (SQLite fails with "integer overflow"); within int64 it is the
 *     integer, as before;
 *   - doubles add with Neumaier's compensated summation, so a long sum of
 *     small values does not drift (SQLite 3.40 adds them naively);
 *   - anything else is as SQLite does it: NULLs skipped, no rows → NULL
 *     (total: 0.0), a text or blob value counts as its numeric value and
 *     makes the result REAL, avg is REAL.
 *
 * They are window functions too (xInverse subtracts), so `sum(x) OVER (...)`
 * keeps working. */
#include "sql/sq_int.h"

#include <math.h>
#include <string.h>

/* SQLite's aggregate memory is 8-byte aligned: the 128-bit sum is kept as
 * bytes and copied in and out. */
typedef struct acc {
    unsigned char i[16]; /* the integers, exactly (an __int128) */
    double d, c;       /* the other values: Neumaier sum and its compensation */
    int64_t n;         /* non-NULL values */
    int64_t napprox;   /* of them, not integers */
} acc;

static __int128 get_i(const acc *a)
{
    __int128 v;
    memcpy(&v, a->i, sizeof v);
    return v;
}

static void set_i(acc *a, __int128 v) { memcpy(a->i, &v, sizeof v); }

static void neumaier(acc *a, double v)
{
    double t = a->d + v;
    if (fabs(a->d) >= fabs(v)) a->c += (a->d - t) + v;
    else a->c += (v - t) + a->d;
    a->d = t;
}

static void add(sqlite3_context *ctx, sqlite3_value *v, int sign)
{
    acc *a = sqlite3_aggregate_context(ctx, sizeof *a);
    int type = sqlite3_value_numeric_type(v);
    if (!a || type == SQLITE_NULL) return;
    a->n += sign;
    if (type == SQLITE_INTEGER) {
        set_i(a, get_i(a) + sign * (__int128)sqlite3_value_int64(v));
    } else {
        a->napprox += sign;
        neumaier(a, sign * sqlite3_value_double(v));
    }
}

static void step(sqlite3_context *ctx, int argc, sqlite3_value **argv)
{
    (void)argc;
    add(ctx, argv[0], 1);
}

static void inverse(sqlite3_context *ctx, int argc, sqlite3_value **argv)
{
    (void)argc;
    add(ctx, argv[0], -1);
}

/* The sum as a double (the integers' part added last, compensated). */
static double as_double(const acc *a)
{
    acc t = *a;
    neumaier(&t, (double)get_i(a));
    return t.d + t.c;
}

static int fits_int64(__int128 v) { return v >= INT64_MIN && v <= INT64_MAX; }

static void sum_value(sqlite3_context *ctx)
{
    acc *a = sqlite3_aggregate_context(ctx, 0);
    if (!a || a->n == 0) return sqlite3_result_null(ctx);
    if (a->napprox == 0 && fits_int64(get_i(a)))
        return sqlite3_result_int64(ctx, (int64_t)get_i(a));
    sqlite3_result_double(ctx, as_double(a));
}

static void total_value(sqlite3_context *ctx)
{
    acc *a = sqlite3_aggregate_context(ctx, 0);
    sqlite3_result_double(ctx, a && a->n ? as_double(a) : 0.0);
}

static void avg_value(sqlite3_context *ctx)
{
    acc *a = sqlite3_aggregate_context(ctx, 0);
    if (!a || a->n == 0) return sqlite3_result_null(ctx);
    if (a->napprox == 0) /* exact integers: one rounding */
        return sqlite3_result_double(ctx, (double)get_i(a) / (double)a->n);
    sqlite3_result_double(ctx, as_double(a) / (double)a->n);
}

int sq__sum_register(sqlite3 *db)
{
    static const struct {
        const char *name;
        void (*value)(sqlite3_context *);
    } fns[] = {{"sum", sum_value}, {"total", total_value}, {"avg", avg_value}};
    for (size_t k = 0; k < sizeof fns / sizeof *fns; k++)
        if (sqlite3_create_window_function(db, fns[k].name, 1,
                                           SQLITE_UTF8 | SQLITE_DETERMINISTIC | SQLITE_INNOCUOUS,
                                           NULL, step, fns[k].value, fns[k].value, inverse,
                                           NULL) != SQLITE_OK)
            return -1;
    return 0;
}
