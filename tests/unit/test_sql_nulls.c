/* sq__nulls_last: which ORDER BY terms get NULLS LAST (Trino's order) and
 * which keep their text: DESC, explicit NULLS FIRST/LAST, strings, quoted
 * names and comments, window ORDER BYs, clause ends. */
#include "sql/sq_int.h"
#include "t.h"

#include <stdlib.h>
#include <string.h>

static const char *nl(const char *sql)
{
    static char res[2048];
    char *o = sq__nulls_last(sql);
    snprintf(res, sizeof res, "%s", o ? o : sql);
    free(o);
    return res;
}

TEST(sql_nulls_last_rewrite)
{
    static const struct { const char *in, *want; } cases[] = {
        {"SELECT a FROM t ORDER BY a", "SELECT a FROM t ORDER BY a NULLS LAST"},
        {"SELECT a FROM t ORDER BY a ASC, b DESC, c", "SELECT a FROM t ORDER BY a ASC NULLS LAST, b DESC, c NULLS LAST"},
        {"select a from t order by a nulls first", "select a from t order by a nulls first"},
        {"SELECT a FROM t ORDER BY a NULLS LAST LIMIT 3", "SELECT a FROM t ORDER BY a NULLS LAST LIMIT 3"},
        {"SELECT a FROM t ORDER BY a LIMIT 3 OFFSET 1", "SELECT a FROM t ORDER BY a NULLS LAST LIMIT 3 OFFSET 1"},
        {"SELECT a FROM t ORDER BY coalesce(a, b), lower(c) COLLATE NOCASE;",
         "SELECT a FROM t ORDER BY coalesce(a, b) NULLS LAST, lower(c) COLLATE NOCASE NULLS LAST;"},
        {"SELECT a FROM t ORDER BY CASE WHEN a THEN 1 ELSE 2 END DESC", "SELECT a FROM t ORDER BY CASE WHEN a THEN 1 ELSE 2 END DESC"},
        {"SELECT a FROM t ORDER BY 1 -- the first\n", "SELECT a FROM t ORDER BY 1 NULLS LAST -- the first\n"},
        {"SELECT 'ORDER BY x' FROM t", "SELECT 'ORDER BY x' FROM t"},
        {"SELECT \"order by\" FROM t ORDER BY \"by\"", "SELECT \"order by\" FROM t ORDER BY \"by\" NULLS LAST"},
        {"SELECT * FROM (SELECT a FROM t ORDER BY a) ORDER BY a DESC",
         "SELECT * FROM (SELECT a FROM t ORDER BY a NULLS LAST) ORDER BY a DESC"},
        /* window definitions keep their text (it names the column) */
        {"SELECT row_number() OVER (PARTITION BY g ORDER BY ts ROWS BETWEEN 1 PRECEDING AND CURRENT ROW) FROM t ORDER BY 1",
         "SELECT row_number() OVER (PARTITION BY g ORDER BY ts ROWS BETWEEN 1 PRECEDING AND CURRENT ROW) FROM t ORDER BY 1 NULLS LAST"},
        {"SELECT sum(x) OVER w FROM t WINDOW w AS (ORDER BY ts) ORDER BY 1", "SELECT sum(x) OVER w FROM t WINDOW w AS (ORDER BY ts) ORDER BY 1 NULLS LAST"},
        {"WITH c AS (SELECT a FROM t ORDER BY a LIMIT 5) SELECT * FROM c ORDER BY a DESC",
         "WITH c AS (SELECT a FROM t ORDER BY a NULLS LAST LIMIT 5) SELECT * FROM c ORDER BY a DESC"},
        {"SELECT (SELECT max(b) OVER (ORDER BY b) FROM u ORDER BY b LIMIT 1) FROM t",
         "SELECT (SELECT max(b) OVER (ORDER BY b) FROM u ORDER BY b NULLS LAST LIMIT 1) FROM t"},
        {"SELECT a FROM t UNION ALL SELECT b FROM u ORDER BY 1", "SELECT a FROM t UNION ALL SELECT b FROM u ORDER BY 1 NULLS LAST"},
        {"SELECT a FROM t ORDER BY /* c */ a /* d */, b", "SELECT a FROM t ORDER BY /* c */ a NULLS LAST /* d */, b NULLS LAST"},
        {"SELECT a FROM t GROUP BY a", "SELECT a FROM t GROUP BY a"},
        {"SELECT a FROM t ORDER BY", "SELECT a FROM t ORDER BY"},
        {"SELECT a FROM t ORDER BY a,", "SELECT a FROM t ORDER BY a NULLS LAST,"},
        {"SELECT a FROM t ORDER BY [x y], `z`", "SELECT a FROM t ORDER BY [x y] NULLS LAST, `z` NULLS LAST"},
        {"SELECT a FROM t ORDER BY a 'unterminated", "SELECT a FROM t ORDER BY a 'unterminated NULLS LAST"},
    };
    for (size_t i = 0; i < sizeof cases / sizeof *cases; i++)
        CHECK_MSG(!strcmp(nl(cases[i].in), cases[i].want), "%s\n   got  %s\n   want %s", cases[i].in,
                  nl(cases[i].in), cases[i].want);
}

/* More terms than the cap: the statement is left as written. */
TEST(sql_nulls_last_cap)
{
    ut_buf b = {0};
    ut_buf_puts(&b, "SELECT a FROM t ORDER BY a");
    for (int i = 0; i < 5000; i++) ut_buf_puts(&b, ", a");
    char *o = sq__nulls_last(ut_buf_cstr(&b));
    CHECK(o == NULL);
    free(o);
    ut_buf_free(&b);
}
