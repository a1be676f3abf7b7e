/* pgfed connection: connect and session setup, the transaction that holds
 * the scans' cursors, reconnecting, and messages that name the connection
 * but never carry its password. */
#include "pgfed/pgf_int.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

char *pgf__display(const char *conninfo)
{
    char *perr = NULL;
    PQconninfoOption *opts = PQconninfoParse(conninfo, &perr);
    ut_buf b = {0};
    if (!opts) {
        PQfreemem(perr);
        return NULL;
    }
    for (PQconninfoOption *o = opts; o->keyword; o++) {
        if (!o->val || !o->val[0] || !strcmp(o->keyword, "password") ||
            (o->dispchar && o->dispchar[0] == '*'))
            continue;
        if (b.len) ut_buf_putc(&b, ' ');
        ut_buf_printf(&b, "%s=%s", o->keyword, o->val);
    }
    ut_buf_putc(&b, 0);
    PQconninfoFree(opts);
    return (char *)b.p;
}

void pgf__scrub(char *s, const char *secret)
{
    size_t n = secret ? strlen(secret) : 0;
    if (!n || !s) return;
    for (char *p = strstr(s, secret); p; p = strstr(p, secret)) {
        size_t rest = strlen(p + n);
        if (n >= 3) {
            memcpy(p, "***", 3);
            memmove(p + 3, p + n, rest + 1);
            p += 3;
        } else {
            memset(p, '*', n);
            p += n;
        }
    }
}

/* The password written inside conninfo, if any (malloc'd) — to scrub it. */
static char *conninfo_password(const char *conninfo)
{
    char *perr = NULL, *pw = NULL;
    PQconninfoOption *opts = PQconninfoParse(conninfo, &perr);
    PQfreemem(perr);
    for (PQconninfoOption *o = opts; o && o->keyword; o++)
        if (!strcmp(o->keyword, "password") && o->val && o->val[0]) pw = ut_strdup(o->val);
    if (opts) PQconninfoFree(opts);
    return pw;
}

/* libpq's message without the trailing newline and without any password. */
static void clean_msg(pgf_conn *c, char *out, size_t outlen, const char *msg)
{
    snprintf(out, outlen, "%s", msg ? msg : "unknown error");
    size_t n = strlen(out);
    while (n && (out[n - 1] == '\n' || out[n - 1] == ' ')) out[--n] = 0;
    for (char *p = out; *p; p++)
        if (*p == '\n') *p = ' ';
    char *pw = conninfo_password(c->conninfo);
    pgf__scrub(out, pw);
    pgf__scrub(out, c->password);
    free(pw);
}

int pgf__pg_err(pgf_conn *c, const PGresult *r, char *err, size_t errlen)
{
    char msg[1024];
    const char *prim = r ? PQresultErrorField(r, PG_DIAG_MESSAGE_PRIMARY) : NULL;
    if (prim) {
        const char *st = PQresultErrorField(r, PG_DIAG_SQLSTATE);
        const char *det = PQresultErrorField(r, PG_DIAG_MESSAGE_DETAIL);
        clean_msg(c, msg, sizeof msg, prim);
        return ut_err(err, errlen, "postgres \"%s\": %s%s%s (SQLSTATE %s)", c->name, msg,
                      det ? ": " : "", det ? det : "", st ? st : "?");
    }
    clean_msg(c, msg, sizeof msg, c->pg ? PQerrorMessage(c->pg) : NULL);
    return ut_err(err, errlen, "postgres \"%s\": %s", c->name, msg);
}

int pgf__connect(pgf_conn *c, char *err, size_t errlen)
{
    static const char setup[] = "SET TimeZone = 'UTC'; SET DateStyle = 'ISO, YMD'; "
                                "SET bytea_output = 'hex'; SET extra_float_digits = 1";
    const char *kw[8], *val[8];
    char timeout[16], msg[1024];
    PGresult *r = NULL;
    int i = 0;
    snprintf(timeout, sizeof timeout, "%d", c->connect_timeout_s);
    kw[i] = "dbname", val[i++] = c->conninfo;
    if (c->password) kw[i] = "password", val[i++] = c->password;
    kw[i] = "connect_timeout", val[i++] = timeout;
    kw[i] = "client_encoding", val[i++] = "UTF8";
    kw[i] = "application_name", val[i++] = c->application[0] ? c->application : "sluice";
    kw[i] = NULL, val[i] = NULL;
    if (c->pg) PQfinish(c->pg);
    c->in_txn = 0;
    c->open_cursors = 0;
    c->gen++;
    c->pg = PQconnectdbParams(kw, val, 1);
    if (!c->pg) {
        ut_err(err, errlen, "postgres connection \"%s\": out of memory", c->name);
        goto fail;
    }
    if (PQstatus(c->pg) != CONNECTION_OK) {
        clean_msg(c, msg, sizeof msg, PQerrorMessage(c->pg));
        ut_err(err, errlen, "postgres connection \"%s\" (%s): %s", c->name,
               c->display ? c->display : "conninfo", msg);
        goto fail;
    }
    r = PQexec(c->pg, setup);
    if (PQresultStatus(r) != PGRES_COMMAND_OK) {
        pgf__pg_err(c, r, err, errlen);
        goto fail;
    }
    PQclear(r);
    const char *enc = PQparameterStatus(c->pg, "server_encoding");
    c->utf8 = enc && !strcmp(enc, "UTF8");
    return 0;
fail:
    PQclear(r);
    if (c->pg) PQfinish(c->pg);
    c->pg = NULL;
    return -1;
}

int pgf__begin(pgf_conn *c, char *err, size_t errlen)
{
    static const char begin[] = "BEGIN ISOLATION LEVEL REPEATABLE READ READ ONLY";
    PGresult *r = NULL;
    if (c->in_txn) return 0;
    if ((!c->pg || PQstatus(c->pg) != CONNECTION_OK) && pgf__connect(c, err, errlen)) goto fail;
    r = PQexec(c->pg, begin);
    if (PQresultStatus(r) != PGRES_COMMAND_OK && PQstatus(c->pg) != CONNECTION_OK) {
        /* the server went away since the last query: reconnect once */
        PQclear(r);
        r = NULL;
        if (pgf__connect(c, err, errlen)) goto fail;
        r = PQexec(c->pg, begin);
    }
    if (PQresultStatus(r) != PGRES_COMMAND_OK) {
        pgf__pg_err(c, r, err, errlen);
        goto fail;
    }
    PQclear(r);
    c->in_txn = 1;
    c->open_cursors = 0;
    return 0;
fail:
    PQclear(r);
    return -1;
}

void pgf__cursor_done(pgf_conn *c, unsigned gen)
{
    if (gen != c->gen || !c->in_txn) return;
    if (c->open_cursors > 0) c->open_cursors--;
    if (c->open_cursors == 0) {
        PGresult *r = PQexec(c->pg, "COMMIT");
        if (PQresultStatus(r) != PGRES_COMMAND_OK) c->gen++;
        PQclear(r);
        c->in_txn = 0;
    }
}

void pgf__abort(pgf_conn *c)
{
    if (c->in_txn && c->pg && PQstatus(c->pg) == CONNECTION_OK) PQclear(PQexec(c->pg, "ROLLBACK"));
    c->in_txn = 0;
    c->open_cursors = 0;
    c->gen++;
}

void pgf__conn_free(pgf_conn *c)
{
    if (!c) return;
    if (c->pg) PQfinish(c->pg);
    for (int i = 0; i < c->nrels; i++) {
        pgf_rel *r = &c->rels[i];
        for (int j = 0; j < r->ncols; j++) free(r->cols[j].name);
        free(r->cols);
        free(r->schema);
        free(r->table);
        free(r->sqlname);
    }
    free(c->rels);
    if (c->password) {
        memset(c->password, 0, strlen(c->password));
        free(c->password);
    }
    free(c->conninfo);
    free(c->display);
    free(c);
}
