/* snap internals: a source is an ops table over one kind of database
 * (pg.c, mysql.c, sqlite.c, redis.c). */
#ifndef SLUICE_SN_INT_H
#define SLUICE_SN_INT_H

#include "snap/snap.h"

typedef struct sn_ops {
    const char *name; /* "postgres" */
    /* every relation the role may read, "schema.table", into *out (count or -1) */
    int (*list)(sn_source *s, char ***out, char *err, size_t errlen);
    int (*begin)(sn_scan *sc, const char *table, char *err, size_t errlen);
    /* max(column) as text over the scan's where: 1 / 0 (no rows) / -1 */
    int (*max)(sn_scan *sc, const char *column, char *out, size_t cap, char *err, size_t errlen);
    /* min and max of column as text over the scan's where: 1 / 0 (no rows) / -1 */
    int (*range)(sn_scan *sc, const char *column, char *lo, char *hi, size_t cap, char *err,
                 size_t errlen);
    /* the scan's snapshot for others (NULL: the source cannot share one) */
    int (*export_snapshot)(sn_scan *sc, char *id, size_t cap, char *err, size_t errlen);
    int (*start)(sn_scan *sc, const int *sel, int nsel, char *err, size_t errlen);
    int (*next)(sn_scan *sc, const char **v, size_t *n, const atomic_int *cancel,
                int64_t deadline_ms, char *err, size_t errlen);
    void (*end)(sn_scan *sc);
    void (*close)(sn_source *s);
} sn_ops;

struct sn_source {
    const sn_ops *ops;
    char name[CF_NAME_MAX + 1]; /* the connection, for messages */
    void *impl;
    sn_scan *scan;              /* the open scan, if any (one at a time) */
};

struct sn_scan {
    sn_source *src;
    char table[256];
    char *where;
    sn_column *cols;
    int ncols;
    int started;
    char snapshot[128]; /* begin in this exported snapshot ("" = a new one) */
    const atomic_int *cancel; /* sn_scan_limits: statements before the rows end on these */
    int64_t deadline_ms;
    void *impl;
};

/* Split "schema.table" at its first '.' into s[sn] and t[tn].  0 or -1. */
int sn__split_name(const char *name, char *s, size_t sn, char *t, size_t tn);

/* Append s as a double-quoted identifier / a single-quoted literal. */
void sn__quote_ident(ut_buf *b, const char *s);
void sn__quote_literal(ut_buf *b, const char *s);

extern const sn_ops sn__pg_ops;
extern const sn_ops sn__mysql_ops;
extern const sn_ops sn__sqlite_ops;
extern const sn_ops sn__redis_ops;

#endif
