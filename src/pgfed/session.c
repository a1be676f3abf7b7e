/* pgfed sessions: a PostgreSQL connection for other modules (snapshot
 * jobs), made by the same code as the attach's (conn.c), so that every
 * connection sluice makes to postgres.<name> is set up and reported alike. */
#include "pgfed/pgf_int.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

struct pgf_session {
    pgf_conn *c;
};

int pgf_password(const cf_postgres *p, char *out, size_t n, char *err, size_t errlen)
{
    if (!p->password_file || !p->password_file[0]) return 0;
    FILE *f = fopen(p->password_file, "r");
    if (!f)
        return ut_err(err, errlen, "postgres \"%s\": password_file %s: %m", p->name,
                      p->password_file);
    if (!fgets(out, (int)n, f)) out[0] = 0;
    fclose(f);
    out[strcspn(out, "\r\n")] = 0;
    return 1;
}

pgf_session *pgf_session_open(const cf_postgres *p, const char *application, char *err,
                              size_t errlen)
{
    char pw[PGF_MAX_PASSWORD + 2];
    int have = pgf_password(p, pw, sizeof pw, err, errlen);
    if (have < 0) return NULL;
    pgf_conn *c = ut_calloc(1, sizeof *c);
    snprintf(c->name, sizeof c->name, "%s", p->name);
    snprintf(c->application, sizeof c->application, "%s", application ? application : "");
    c->conninfo = ut_strdup(p->conninfo ? p->conninfo : "");
    c->display = pgf__display(c->conninfo);
    if (have) c->password = ut_strdup(pw);
    memset(pw, 0, sizeof pw);
    c->connect_timeout_s = p->connect_timeout_ms >= 1000 ? (int)(p->connect_timeout_ms / 1000) : 10;
    if (!c->display) {
        ut_err(err, errlen, "postgres connection \"%s\": conninfo does not parse", p->name);
        pgf__conn_free(c);
        return NULL;
    }
    if (pgf__connect(c, err, errlen)) {
        pgf__conn_free(c);
        return NULL;
    }
    pgf_session *s = ut_calloc(1, sizeof *s);
    s->c = c;
    return s;
}

PGconn *pgf_session_pg(pgf_session *s) { return s->c->pg; }

int pgf_session_err(pgf_session *s, const PGresult *r, char *err, size_t errlen)
{
    return pgf__pg_err(s->c, r, err, errlen);
}

int pgf_session_exec(pgf_session *s, const char *sql, char *err, size_t errlen)
{
    PGresult *r = PQexec(s->c->pg, sql);
    int rc = PQresultStatus(r) == PGRES_COMMAND_OK ? 0 : pgf__pg_err(s->c, r, err, errlen);
    PQclear(r);
    return rc;
}

void pgf_session_close(pgf_session *s)
{
    if (!s) return;
    pgf__conn_free(s->c);
    free(s);
}
