/* CSRF protection for the console's state-changing requests.
 *
 * A request "from a browser" is one with an Origin, Sec-Fetch-Site or
 * Cookie header (curl and API clients send none: their Bearer token is
 * their authority, and it cannot ride along on a forged request).  Such a
 * request is refused (403) unless
 *   - it is not cross-site: Sec-Fetch-Site, when present, is same-origin
 *     or none; Origin, when present, names this Host; and
 *   - it carries X-Sluice-CSRF equal to its sluice_csrf cookie (double
 *     submit: another site can neither read the cookie nor set the header
 *     without a CORS preflight, which this server never grants).
 * GET /v1/session sets the cookie (128 random bits, SameSite=Strict,
 * HttpOnly is not set: the page copies it into the header) and answers
 * {"csrf":"..."}. */
#include "server/sv_int.h"

#include <stdio.h>
#include <string.h>
#include <sys/random.h>

#define COOKIE "sluice_csrf"

static const char *header(struct MHD_Connection *c, const char *name)
{
    return MHD_lookup_connection_value(c, MHD_HEADER_KIND, name);
}

/* Origin "http://host:port" names Host "host:port"? */
static int same_host(const char *origin, const char *host)
{
    const char *p = strstr(origin, "://");
    return host && p && !strcmp(p + 3, host);
}

int sv__csrf_check(sv_server *s, struct MHD_Connection *c, char *err, size_t errlen)
{
    (void)s;
    const char *origin = header(c, "Origin"), *site = header(c, "Sec-Fetch-Site"),
               *cookie = header(c, "Cookie");
    if (!origin && !site && !cookie) return 0;
    if (site && strcmp(site, "same-origin") && strcmp(site, "none"))
        return ut_err(err, errlen, "refused: a %s request (Sec-Fetch-Site) may not change "
                      "anything", site);
    if (origin && !same_host(origin, header(c, "Host")))
        return ut_err(err, errlen, "refused: a request from another origin may not change anything");
    const char *want = MHD_lookup_connection_value(c, MHD_COOKIE_KIND, COOKIE);
    const char *got = header(c, "X-Sluice-CSRF");
    if (!want || !got || strlen(want) != 32 || !ut_token_in(&want, 1, got, strlen(got)))
        return ut_err(err, errlen, "refused: a browser request that changes something needs the "
                      "X-Sluice-CSRF header (GET /v1/session gives it)");
    return 0;
}

enum MHD_Result sv__session(sv_server *s, struct MHD_Connection *c)
{
    const char *have = MHD_lookup_connection_value(c, MHD_COOKIE_KIND, COOKIE);
    char tok[33];
    int fresh = !have || strlen(have) != 32 || strspn(have, "0123456789abcdef") != 32;
    if (fresh) {
        unsigned char rnd[16];
        if (getrandom(rnd, sizeof rnd, 0) != (ssize_t)sizeof rnd)
            return sv__reply_error(s, c, 503, "no randomness for a session");
        for (int i = 0; i < 16; i++) snprintf(tok + 2 * i, 3, "%02x", rnd[i]);
    } else {
        memcpy(tok, have, 33);
    }
    char body[64], cookie[128];
    int n = snprintf(body, sizeof body, "{\"csrf\":\"%s\"}\n", tok);
    snprintf(cookie, sizeof cookie, COOKIE "=%s; Path=/; SameSite=Strict", tok);
    struct MHD_Response *r = MHD_create_response_from_buffer((size_t)n, body, MHD_RESPMEM_MUST_COPY);
    if (!r) return MHD_NO;
    MHD_add_response_header(r, "Content-Type", "application/json");
    MHD_add_response_header(r, "Cache-Control", "no-store");
    MHD_add_response_header(r, "Set-Cookie", cookie);
    enum MHD_Result rc = MHD_queue_response(c, 200, r);
    MHD_destroy_response(r);
    __atomic_fetch_add(&s->http_codes[2], 1, __ATOMIC_RELAXED);
    return rc;
}
