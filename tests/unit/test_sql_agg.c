/* The aggregate fast path's planner (agg_plan.c): which statements have the
 * shape, what the plan holds, the statement it hands SQLite, and the caps. */
#include "t.h"
#include "sql/agg_int.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

static char why[512];

static int plan(const char *sql, sqa_plan *p)
{
    why[0] = 0;
    return sq__agg_plan(sql, p, why, sizeof why);
}

TEST(sql_agg_plan_groups_aggregates_predicates)
{
    sqa_plan p;
    int ok = plan("SELECT dt, event_type, count(*) AS n, sum(cost), count(DISTINCT user_id) "
               "FROM lake.t1_events WHERE dt = '2024-05-01' AND cost BETWEEN 1 AND -2.5 "
               "AND country IN ('JP', 'US') AND x IS NOT NULL GROUP BY dt, event_type;", &p);
    CHECK_MSG(ok, "%s", why);
    CHECK_EQ_STR(p.table, "t1_events");
    CHECK_EQ_INT(p.ngroups, 2);
    CHECK_EQ_STR(p.groups[1].col, "event_type");
    CHECK_EQ_INT(p.naggs, 3);
    CHECK_EQ_INT(p.aggs[0].fn, SQA_COUNT_STAR);
    CHECK_EQ_INT(p.aggs[2].fn, SQA_COUNT_DISTINCT);
    CHECK_EQ_INT(p.npreds, 4);
    CHECK_EQ_INT(p.preds[1].op, SQA_BETWEEN);
    CHECK_EQ_INT(p.preds[2].nlit, 2);
    CHECK_EQ_INT(p.preds[3].op, SQA_NOTNULL);
    CHECK_EQ_STR(p.lits, "SELECT '2024-05-01', 1, -2.5, 'JP', 'US'");
    CHECK(strstr(p.outer, "a0 AS \"n\"") && strstr(p.outer, "a1 AS \"sum(cost)\""));
    CHECK(strstr(p.outer, "ORDER BY g0, g1")); /* SQLite's GROUP BY order */
    sq__agg_plan_free(&p);
}

TEST(sql_agg_plan_buckets_aliases_positions)
{
    sqa_plan p;
    CHECK(plan("SELECT substr(event_time, 1, 13) AS h, count(*) FROM t GROUP BY h", &p));
    CHECK_EQ_INT(p.groups[0].kind, SQA_G_SUBSTR);
    CHECK_EQ_INT(p.groups[0].n, 13);
    CHECK_EQ_STR(p.groups[0].alias, "h");
    sq__agg_plan_free(&p);
    CHECK(plan("SELECT strftime('%Y-%m-%d', ts), max(x) m FROM t GROUP BY 1 HAVING m > 3 "
               "ORDER BY 2 DESC NULLS LAST LIMIT 10 OFFSET 2", &p));
    CHECK_EQ_INT(p.groups[0].kind, SQA_G_DAY);
    CHECK_MSG(strstr(p.outer, "WHERE ( m > 3 )") != NULL, "%s", p.outer);
    CHECK(strstr(p.outer, "LIMIT 10 OFFSET 2") != NULL);
    sq__agg_plan_free(&p);
    CHECK(plan("SELECT count(*) FROM t", &p)); /* no GROUP BY: no ORDER BY */
    CHECK(!strstr(p.outer, "ORDER"));
    sq__agg_plan_free(&p);
}

TEST(sql_agg_plan_refuses_other_shapes)
{
    static const char *no[] = {
        "SELECT count(*) FROM a JOIN b ON a.x = b.x",
        "SELECT count(*) FROM (SELECT 1)",
        "SELECT lower(c), count(*) FROM t GROUP BY 1",
        "SELECT c, count(*) FROM t GROUP BY d",          /* c not grouped */
        "SELECT count(*) FROM t WHERE a = 1 OR b = 2",
        "SELECT count(*) FROM t WHERE a = b",
        "SELECT count(*) FROM t WHERE a NOT IN (1)",
        "SELECT sum(x + 1) FROM t",
        "SELECT max(a, b) FROM t",
        "SELECT DISTINCT count(*) FROM t",
        "SELECT count(*) FROM t; SELECT 1",
        "SELECT c FROM t GROUP BY c",                    /* no aggregate */
        "SELECT count(*) FROM t HAVING count(*) > 1",
        "SELECT substr(c, 2, 3), count(*) FROM t GROUP BY 1",
        "SELECT strftime('%H', c), count(*) FROM t GROUP BY 1",
        "SELECT c AS d, count(*) FROM t GROUP BY d, c AS",
        "SELECT count(*) FROM t -- comment",
        "SELECT count(*) FROM t WHERE a = (1)",
        "SELECT count(*) FROM t WHERE x = 'unterminated",
        "SELECT count(*) FROM main.t",
        "SELECT count(*) OVER () FROM t",
        "select",
        "",
        NULL};
    for (int i = 0; no[i]; i++) {
        sqa_plan p;
        CHECK_MSG(!plan(no[i], &p), "accepted: %s", no[i]);
        CHECK_MSG(why[0] != 0 || !no[i][0], "no reason: %s", no[i]);
        CHECK(p.outer == NULL && p.lits == NULL);
    }
}

TEST(sql_agg_plan_caps)
{
    sqa_plan p;
    size_t n = SQA_MAX_SQL + 100;
    char *big = malloc(n + 1);
    strcpy(big, "SELECT count(*) FROM t WHERE a IN (");
    size_t l = strlen(big);
    while (l + 4 < n) {
        memcpy(big + l, "1, ", 3);
        l += 3;
    }
    strcpy(big + l, "1)");
    CHECK(!plan(big, &p));
    CHECK(strstr(why, "bytes") != NULL);
    /* under the byte cap, over the literal cap */
    l = strlen("SELECT count(*) FROM t WHERE a IN (");
    big[l] = 0;
    for (int i = 0; i < SQA_MAX_LITS + 5; i++) strcat(big, i ? ", 1" : "1");
    strcat(big, ")");
    CHECK(!plan(big, &p));
    CHECK(strstr(why, "literals") != NULL);
    free(big);
}
