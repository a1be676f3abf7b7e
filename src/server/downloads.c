/* Downloads a browser saves to disk as they arrive.
 *
 *   POST /v1/downloads        body: a POST /v1/query request (format csv, tsv,
 *                             ndjson, json or parquet); query tokens as for /v1/query
 *                             -> 201 {"url":"/v1/downloads/ID","expires_in_ms":60000}
 *   GET  /v1/downloads/ID     once, within 60 s: the query's result streamed
 *                             (as /v1/query streams it) with Content-Disposition:
 *                             attachment; no token needed
 *
 * A download the console starts is a navigation to that URL, which cannot
 * carry an Authorization header: the ticket is the authorization, 128
 * random bits, single use, short-lived, at most SV__MAX_TICKETS pending
 * (more: 429).  The query runs with the rights of the token that asked. */
#include "server/sv_int.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/random.h>

#define TICKET_TTL_MS 60000

static uint64_t now_ms(void)
{
    return ut_now_ns() / 1000000;
}

static void clear(sv__ticket *t)
{
    free(t->body);
    memset(t, 0, sizeof *t);
}

/* A free slot (expired ones are freed on the way), or NULL. */
static sv__ticket *free_slot(sv_server *s)
{
    sv__ticket *slot = NULL;
    uint64_t now = now_ms();
    for (int i = 0; i < SV__MAX_TICKETS; i++) {
        sv__ticket *t = &s->tickets[i];
        if (t->id[0] && t->expires_ms <= now) clear(t);
        if (!t->id[0] && !slot) slot = t;
    }
    return slot;
}

enum MHD_Result sv__download_create(sv_server *s, struct MHD_Connection *c, const char *body,
                                    size_t n)
{
    int writer;
    const char *why;
    char err[1024];
    if (sv__query_auth(s, c, &writer, &why)) return sv__reply_error(s, c, 401, why);
    const char *ext;
    if (sv__query_check(c, body, n, &ext, err, sizeof err)) return sv__reply_error(s, c, 400, err);
    unsigned char rnd[16];
    if (getrandom(rnd, sizeof rnd, 0) != (ssize_t)sizeof rnd)
        return sv__reply_error(s, c, 503, "no random bytes for a download id");
    pthread_mutex_lock(&s->dl_mu);
    sv__ticket *t = free_slot(s);
    if (t) {
        for (int i = 0; i < 16; i++) snprintf(t->id + 2 * i, 3, "%02x", rnd[i]);
        t->body = ut_strndup(body, n);
        t->n = n;
        t->writer = writer;
        snprintf(t->ext, sizeof t->ext, "%s", ext);
        t->expires_ms = now_ms() + TICKET_TTL_MS;
    }
    char reply[160];
    if (t)
        snprintf(reply, sizeof reply, "{\"url\":\"/v1/downloads/%s\",\"expires_in_ms\":%d}\n",
                 t->id, TICKET_TTL_MS);
    pthread_mutex_unlock(&s->dl_mu);
    if (!t) return sv__reply_error(s, c, 429, "too many downloads waiting to start; retry later");
    return sv__reply(s, c, 201, "application/json", reply, strlen(reply), NULL);
}

enum MHD_Result sv__download_get(sv_server *s, struct MHD_Connection *c, const char *id)
{
    char *body = NULL, ext[8] = "";
    size_t n = 0;
    int writer = 0;
    pthread_mutex_lock(&s->dl_mu);
    uint64_t now = now_ms();
    for (int i = 0; i < SV__MAX_TICKETS && !body; i++) {
        sv__ticket *t = &s->tickets[i];
        const char *ids[1] = {t->id};
        if (!t->id[0] || !ut_token_in(ids, 1, id, strlen(id))) continue; /* constant time */
        if (t->expires_ms > now) { /* taken: single use */
            body = t->body;
            n = t->n;
            writer = t->writer;
            snprintf(ext, sizeof ext, "%s", t->ext);
            t->body = NULL;
        }
        clear(t);
    }
    pthread_mutex_unlock(&s->dl_mu);
    if (!body) return sv__reply_error(s, c, 404, "unknown or expired download");
    char disp[64];
    snprintf(disp, sizeof disp, "attachment; filename=\"result.%s\"", ext);
    enum MHD_Result r = sv__query_run(s, c, body, n, writer, disp);
    free(body);
    return r;
}

void sv__downloads_free(sv_server *s)
{
    for (int i = 0; i < SV__MAX_TICKETS; i++) clear(&s->tickets[i]);
}
