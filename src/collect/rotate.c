/* collect: refresh tokens the token endpoint rotated, kept on disk.
 *
 * Some APIs answer a refresh-token grant with a new `refresh_token` and
 * revoke the one that was sent (Xero, Salesforce with rotation on, many
 * OAuth 2.1 servers).  The configured token (a secret) then works once: the
 * next run, or another process, would be refused with invalid_grant.  So the
 * newest token of each (cache_key, configured token) is kept in a file of
 * the runtime's state directory:
 *
 *   <dir>/<key>.rt      the newest refresh token, one line, mode 0600
 *   <dir>/<key>.lock    flock'ed for the whole grant
 *
 *   key = hex SHA-256 of cache_key, NUL, the configured refresh token
 *
 * No file name holds a secret; a configured token that changed (the account
 * was authorized again) has another key, so the grant starts over from it.
 *
 *   cl__rt_begin  lock <key>.lock (threads and processes take turns: each
 *                 grant sends the newest token, one at a time), read <key>.rt
 *   cl__rt_save   <key>.rt.tmp written (0600), fsync'ed, renamed over
 *                 <key>.rt, the directory fsync'ed: saved before the new
 *                 access token is used, so a crash after the grant never
 *                 loses the only valid refresh token
 *   cl__rt_end    unlock, wipe
 *
 * A file that is unreadable, too long or not a token counts as absent (the
 * configured token is sent; the endpoint says whether it still works). */
#include "collect/cl_int.h"

#include <assert.h>
#include <errno.h>
#include <fcntl.h>
#include <openssl/evp.h>
#include <stdio.h>
#include <string.h>
#include <sys/file.h>
#include <unistd.h>

static int key_of(const char *cache_key, const char *configured, char out[65])
{
    unsigned char md[EVP_MAX_MD_SIZE];
    unsigned int n = 0;
    EVP_MD_CTX *c = EVP_MD_CTX_new();
    int ok = c && EVP_DigestInit_ex(c, EVP_sha256(), NULL) &&
             EVP_DigestUpdate(c, cache_key, strlen(cache_key) + 1) &&
             EVP_DigestUpdate(c, configured, strlen(configured)) &&
             EVP_DigestFinal_ex(c, md, &n) && n == 32;
    EVP_MD_CTX_free(c);
    if (!ok) return -1;
    for (unsigned i = 0; i < 32; i++) snprintf(out + 2 * i, 3, "%02x", md[i]);
    return 0;
}

static int token_chars(const char *s, size_t n)
{
    if (n == 0 || n >= CL__MAX_TOKEN) return 0;
    for (size_t i = 0; i < n; i++)
        if ((unsigned char)s[i] <= ' ' || (unsigned char)s[i] >= 0x7f) return 0;
    return 1;
}

/* <path> into rt->tok when it holds a token; else rt->tok stays "". */
static void load(cl__rt *rt)
{
    int fd = open(rt->path, O_RDONLY | O_CLOEXEC);
    if (fd < 0) return;
    ssize_t got = read(fd, rt->tok, sizeof rt->tok - 1);
    close(fd);
    size_t n = got > 0 ? (size_t)got : 0;
    while (n && (rt->tok[n - 1] == '\n' || rt->tok[n - 1] == '\r')) n--;
    rt->tok[n] = 0;
    if (!token_chars(rt->tok, n)) memset(rt->tok, 0, sizeof rt->tok);
}

int cl__rt_begin(cl__rt *rt, const char *dir, const char *cache_key, const char *configured,
                 char *err, size_t errlen)
{
    memset(rt, 0, sizeof *rt);
    rt->fd = -1;
    char key[65], lock[sizeof rt->path];
    if (key_of(cache_key, configured, key))
        return ut_err(err, errlen, "refresh tokens: SHA-256 failed");
    if ((size_t)snprintf(rt->path, sizeof rt->path, "%s/%s.rt", dir, key) >= sizeof rt->path ||
        (size_t)snprintf(lock, sizeof lock, "%s/%s.lock", dir, key) >= sizeof lock)
        return ut_err(err, errlen, "refresh tokens: the directory %s is too long a path", dir);
    rt->fd = open(lock, O_RDWR | O_CREAT | O_CLOEXEC, 0600);
    if (rt->fd < 0)
        return ut_err(err, errlen, "refresh tokens: cannot open %s: %s", lock, strerror(errno));
    while (flock(rt->fd, LOCK_EX) < 0)
        if (errno != EINTR) {
            int en = errno;
            close(rt->fd), rt->fd = -1;
            return ut_err(err, errlen, "refresh tokens: cannot lock %s: %s", lock, strerror(en));
        }
    load(rt);
    return 0;
}

int cl__rt_save(cl__rt *rt, const char *tok, size_t n, char *err, size_t errlen)
{
    assert(rt->fd >= 0);
    if (!token_chars(tok, n))
        return ut_err(err, errlen, "refresh tokens: the token endpoint's refresh_token is not "
                      "a token (empty, too long, or not printable ASCII)");
    char line[sizeof rt->tok + 1], m[300];
    assert(n < sizeof line);
    memcpy(line, tok, n);
    line[n] = '\n';
    int rc = ut_file_replace(rt->path, line, n + 1, 0600, m, sizeof m);
    memset(line, 0, sizeof line);
    if (rc) return ut_err(err, errlen, "refresh tokens: cannot save the rotated token: %s", m);
    memset(rt->tok, 0, sizeof rt->tok);
    memcpy(rt->tok, tok, n);
    return 0;
}

void cl__rt_end(cl__rt *rt)
{
    if (rt->fd >= 0) {
        flock(rt->fd, LOCK_UN);
        close(rt->fd);
    }
    memset(rt, 0, sizeof *rt);
    rt->fd = -1;
}
