/* The aggregate fast path (agg_plan.c recognises the shape, agg_exec.c runs
 * it).  Internal to src/sql.
 *
 *   SELECT item, .. FROM [lake.]<table> [WHERE p AND p ..] [GROUP BY g, ..]
 *          [HAVING ..] [ORDER BY ..] [LIMIT n [OFFSET m]]
 *
 * items: group expressions, aggregates (count(*), count(x),
 * count(DISTINCT x), sum, min, max, avg) and expressions of them with
 * literals, operators and round/abs/coalesce/ifnull/nullif; group
 * expressions: a column, substr(col, 1, N), strftime('%Y-%m-%d', col),
 * date(col); predicates: col op literal (=, ==, <>, !=, <, <=, >, >=),
 * col BETWEEN a AND b, col IN (literals), col IS [NOT] NULL.
 *
 * The partial result (one row per group: group values, finished aggregates)
 * goes to temp._sq_agg; `outer` is the statement SQLite runs over it, with
 * HAVING as its WHERE and the GROUP BY order as the last ORDER BY terms
 * (SQLite's own output order of a GROUP BY). */
#ifndef SLUICE_SQL_AGG_INT_H
#define SLUICE_SQL_AGG_INT_H

#include "sql/sq_int.h"

#define SQA_MAX_SQL 16384  /* statement bytes */
#define SQA_MAX_TOKENS 2048
#define SQA_MAX_GROUPS 8
#define SQA_MAX_AGGS 32
#define SQA_MAX_PREDS 32
#define SQA_MAX_LITS 512   /* literals of the WHERE clause */
#define SQA_MAX_NAME 128
#define SQA_MAX_THREADS 64

typedef enum sqa_gkind { SQA_G_COL = 1, SQA_G_SUBSTR, SQA_G_DAY } sqa_gkind;
typedef enum sqa_fn {
    SQA_COUNT_STAR = 1, SQA_COUNT, SQA_COUNT_DISTINCT, SQA_SUM, SQA_MIN, SQA_MAX, SQA_AVG
} sqa_fn;
typedef enum sqa_op {
    SQA_EQ = 1, SQA_NE, SQA_LT, SQA_LE, SQA_GT, SQA_GE, SQA_BETWEEN, SQA_IN, SQA_ISNULL,
    SQA_NOTNULL
} sqa_op;

typedef struct sqa_group {
    sqa_gkind kind;
    char col[SQA_MAX_NAME];
    int n; /* substr length */
    char alias[SQA_MAX_NAME]; /* GROUP BY <alias>: SQLite takes a column of that name first */
} sqa_group;

typedef struct sqa_agg {
    sqa_fn fn;
    char col[SQA_MAX_NAME]; /* "" for count(*) */
} sqa_agg;

typedef struct sqa_pred {
    char col[SQA_MAX_NAME];
    sqa_op op;
    int lit, nlit; /* literals [lit, lit + nlit) of the plan */
} sqa_pred;

typedef struct sqa_plan {
    char table[SQA_MAX_NAME];
    sqa_group groups[SQA_MAX_GROUPS];
    int ngroups;
    sqa_agg aggs[SQA_MAX_AGGS];
    int naggs;
    sqa_pred preds[SQA_MAX_PREDS];
    int npreds;
    char *lits;        /* "SELECT lit, lit, ..": the WHERE literals, as SQLite reads them */
    int nlits;
    char *outer;       /* the statement over temp._sq_agg; "\x01<i>" marks the name of
                          bare group item i (the table's spelling, filled in by exec) */
} sqa_plan;

/* Does sql have the shape?  1 (p filled; free with sq__agg_plan_free), 0 with
 * the reason in why.  Never fails otherwise. */
int sq__agg_plan(const char *sql, sqa_plan *p, char *why, size_t whylen);
void sq__agg_plan_free(sqa_plan *p);

/* Run p: 1 with *outer the statement to run instead (malloc'ed; temp._sq_agg
 * holds the partial result), 0 declined (why: the reason; nothing done), -1
 * with a message. */
int sq__agg_run(sq_engine *e, const sqa_plan *p, char **outer, char *why, size_t whylen,
                char *err, size_t errlen);

#endif
