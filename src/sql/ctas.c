/* CREATE TABLE t AS SELECT / INSERT INTO t SELECT on lake tables. */
#include "sql/sq_int.h"

int sq__ctas(sq_engine *e, const char *sql, int64_t *rows, char *err, size_t errlen)
{
    (void)e;
    (void)sql;
    (void)rows;
    (void)err;
    (void)errlen;
    return 0;
}
