/* myfed connections: connect and session setup, the attach's pool of
 * links (one per scan open at once, since mysql_use_result keeps a
 * connection busy until its rows are read), reconnecting a link that went
 * stale, and messages that name the connection but never carry its
 * password. */
#include "myfed/myf_int.h"

#include <assert.h>
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>

static pthread_once_t lib_once = PTHREAD_ONCE_INIT;
static void lib_init(void) { (void)mysql_library_init(0, NULL, NULL); }

/* UTC so TIMESTAMP values and literals are UTC; ANSI_QUOTES so "x" is an
 * identifier; NO_BACKSLASH_ESCAPES so render.c's literals mean what they
 * say; READ ONLY so nothing here can write. */
static const char session_sql[] =
    "SET SESSION time_zone = '+00:00', SESSION sql_mode = "
    "'ANSI_QUOTES,NO_BACKSLASH_ESCAPES,NO_ENGINE_SUBSTITUTION', SESSION net_write_timeout = 600";

/* err without the password (a server could echo what it was sent). */
static void scrub(const myf_conn *c, char *err, size_t errlen)
{
    if (c->password && c->password[0]) ut_redact(err, errlen, c->password, "***");
}

int myf__my_err(myf_conn *c, MYSQL *my, char *err, size_t errlen)
{
    ut_err(err, errlen, "mysql \"%s\": %s (errno %u)", c->name,
           my ? mysql_error(my) : "not connected", my ? mysql_errno(my) : 0);
    scrub(c, err, errlen);
    return -1;
}

static void where(const myf_conn *c, char *out, size_t n)
{
    if (c->socket[0]) snprintf(out, n, "%s@%s", c->user, c->socket);
    else snprintf(out, n, "%s@%s:%u", c->user, c->host, c->port);
}

static MYSQL *open_my(const myf_conn *c)
{
    pthread_once(&lib_once, lib_init);
    MYSQL *my = mysql_init(NULL);
    if (!my) return NULL;
    unsigned long maxp = MYF_MAX_ROW_BYTES;
    unsigned rd = MYF_READ_TIMEOUT_S, wr = 60, to = c->timeout_s;
    my_bool off = 0;
    mysql_options(my, MYSQL_OPT_CONNECT_TIMEOUT, &to);
    mysql_options(my, MYSQL_OPT_READ_TIMEOUT, &rd);
    mysql_options(my, MYSQL_OPT_WRITE_TIMEOUT, &wr);
    mysql_options(my, MYSQL_SET_CHARSET_NAME, "utf8mb4");
    mysql_options(my, MYSQL_OPT_MAX_ALLOWED_PACKET, &maxp);
    mysql_options(my, MYSQL_OPT_LOCAL_INFILE, &off);
    mysql_options(my, MYSQL_OPT_RECONNECT, &off);
    return my;
}

int myf__connect(myf_conn *c, myf_link *l, char *err, size_t errlen)
{
    char at[400];
    if (l->my) mysql_close(l->my);
    l->used = 0;
    if (!(l->my = open_my(c)))
        return ut_err(err, errlen, "mysql connection \"%s\": out of memory", c->name);
    const char *host = c->socket[0] ? "localhost" : c->host;
    if (!mysql_real_connect(l->my, host, c->user, c->password, c->database[0] ? c->database : NULL,
                            c->port, c->socket[0] ? c->socket : NULL, 0)) {
        where(c, at, sizeof at);
        ut_err(err, errlen, "mysql connection \"%s\" (%s): %s", c->name, at, mysql_error(l->my));
        goto fail;
    }
    if (mysql_query(l->my, session_sql) ||
        mysql_query(l->my, "SET SESSION TRANSACTION READ ONLY")) {
        myf__my_err(c, l->my, err, errlen);
        goto fail;
    }
    /* the literals depend on it: make sure the server took it */
    if (!(l->my->server_status & SERVER_STATUS_NO_BACKSLASH_ESCAPES)) {
        ut_err(err, errlen, "mysql \"%s\": the server did not take sql_mode NO_BACKSLASH_ESCAPES",
               c->name);
        goto fail;
    }
    scrub(c, err, errlen);
    return 0;
fail:
    scrub(c, err, errlen);
    mysql_close(l->my);
    l->my = NULL;
    return -1;
}

myf_link *myf__acquire(myf_conn *c, char *err, size_t errlen)
{
    myf_link *free_slot = NULL;
    for (int i = 0; i < MYF_MAX_LINKS; i++) {
        myf_link *l = &c->links[i];
        if (l->busy) continue;
        if (l->my) {
            l->busy = 1;
            return l;
        }
        if (!free_slot) free_slot = l;
    }
    if (!free_slot) {
        ut_err(err, errlen, "mysql \"%s\": over %d scans of its tables open at once in one "
               "statement", c->name, MYF_MAX_LINKS);
        return NULL;
    }
    if (myf__connect(c, free_slot, err, errlen)) return NULL;
    free_slot->busy = 1;
    return free_slot;
}

void myf__release(myf_conn *c, myf_link *l, int ok)
{
    (void)c;
    assert(l->busy);
    l->busy = 0;
    if (!ok && l->my) {
        /* rows may be waiting: cut the socket so closing does not read them */
        (void)shutdown(mysql_get_socket(l->my), SHUT_RDWR);
        mysql_close(l->my);
        l->my = NULL;
    }
}

/* Errors that mean the connection is gone (CR_SERVER_GONE_ERROR,
 * CR_SERVER_LOST, ER_CONNECTION_KILLED...). */
static int gone(unsigned e) { return e == 2006 || e == 2013 || e == 2055 || e == 1927; }

int myf__query(myf_conn *c, myf_link *l, const char *q, size_t n, char *err, size_t errlen)
{
    char first[600], again[600];
    assert(l->busy && l->my);
    int was_used = l->used;
    l->used = 1;
    if (!mysql_real_query(l->my, q, (unsigned long)n)) return 0;
    if (!was_used || !gone(mysql_errno(l->my))) return myf__my_err(c, l->my, err, errlen);
    /* idle since its last statement and gone since (a restart, wait_timeout):
     * connect again once (the statement only reads) */
    myf__my_err(c, l->my, first, sizeof first);
    if (myf__connect(c, l, again, sizeof again))
        return ut_err(err, errlen, "%s; connecting again: %s", first, again);
    l->used = 1;
    if (!mysql_real_query(l->my, q, (unsigned long)n)) return 0;
    return myf__my_err(c, l->my, err, errlen);
}

void myf__conn_free(myf_conn *c)
{
    if (!c) return;
    for (int i = 0; i < MYF_MAX_LINKS; i++)
        if (c->links[i].my) mysql_close(c->links[i].my);
    for (int i = 0; i < c->nrels; i++) {
        myf_rel *r = &c->rels[i];
        for (int j = 0; j < r->ncols; j++) free(r->cols[j].name);
        free(r->cols);
        free(r->db);
        free(r->table);
    }
    free(c->rels);
    if (c->password) {
        memset(c->password, 0, strlen(c->password));
        free(c->password);
    }
    free(c->host), free(c->socket), free(c->user), free(c->database);
    free(c);
}
