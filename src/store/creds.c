/* S3 credentials: options, then the environment, then the AWS shared
 * credentials file.  Secrets never appear in messages; they are wiped when
 * freed. */
#include "store/st_int.h"

#include <errno.h>
#include <openssl/crypto.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

static void wipe_free(char *s)
{
    if (!s) return;
    OPENSSL_cleanse(s, strlen(s));
    free(s);
}

void st__creds_free(st_creds *c)
{
    if (!c) return;
    wipe_free(c->access_key);
    wipe_free(c->secret_key);
    wipe_free(c->token);
    c->access_key = c->secret_key = c->token = NULL;
}

static int is_sp(char c) { return c == ' ' || c == '\t' || c == '\r'; }

/* Trim s[0..*n) in place (returns the new start). */
static const char *trim(const char *s, size_t *n)
{
    while (*n && is_sp(*s)) {
        s++;
        (*n)--;
    }
    while (*n && is_sp(s[*n - 1])) (*n)--;
    return s;
}

/* No NUL or other control character (a value ends up in an HTTP header). */
static int printable(const char *s, size_t n)
{
    for (size_t i = 0; i < n; i++)
        if ((unsigned char)s[i] < 0x20 || s[i] == 0x7f) return 0;
    return 1;
}

int st__creds_parse(const char *text, size_t n, const char *profile, st_creds *c, char *err,
                    size_t errlen)
{
    int rc = -1, in = 0, found = 0, line = 0;
    char *ak = NULL, *sk = NULL, *tok = NULL;
    size_t i = 0, plen = strlen(profile);
    while (i < n) {
        const char *e = memchr(text + i, '\n', n - i);
        size_t ln = e ? (size_t)(e - (text + i)) : n - i;
        const char *s = text + i;
        i += ln + 1;
        line++;
        s = trim(s, &ln);
        if (!ln || s[0] == '#' || s[0] == ';') continue;
        if (s[0] == '[') {
            if (s[ln - 1] != ']') {
                ut_err(err, errlen, "credentials line %d: section header without ']'", line);
                goto fail;
            }
            size_t nn = ln - 2;
            const char *name = trim(s + 1, &nn);
            if (nn > 8 && !strncmp(name, "profile ", 8)) { /* config-file style */
                name += 8;
                nn -= 8;
                name = trim(name, &nn);
            }
            in = nn == plen && !memcmp(name, profile, plen);
            if (in) found = 1;
            continue;
        }
        const char *eq = memchr(s, '=', ln);
        if (!eq) {
            ut_err(err, errlen, "credentials line %d: expected key = value", line);
            goto fail;
        }
        if (!in) continue;
        size_t kn = (size_t)(eq - s), vn = ln - kn - 1;
        const char *k = trim(s, &kn), *v = trim(eq + 1, &vn);
        char **dst = NULL;
        if (kn == 17 && !strncasecmp(k, "aws_access_key_id", 17)) dst = &ak;
        else if (kn == 21 && !strncasecmp(k, "aws_secret_access_key", 21)) dst = &sk;
        else if ((kn == 17 && !strncasecmp(k, "aws_session_token", 17)) ||
                 (kn == 18 && !strncasecmp(k, "aws_security_token", 18)))
            dst = &tok;
        if (!dst) continue; /* region, output, ... belong to other tools */
        if (!printable(v, vn)) { /* it goes into HTTP headers; never shown */
            ut_err(err, errlen, "credentials line %d: %.*s holds a control character", line,
                   (int)kn, k);
            goto fail;
        }
        wipe_free(*dst);
        *dst = ut_strndup(v, vn);
    }
    if (!found) {
        rc = 0;
        goto fail;
    }
    if (!ak || !ak[0] || !sk || !sk[0]) {
        ut_err(err, errlen, "credentials profile [%s] lacks %s", profile,
               !ak || !ak[0] ? "aws_access_key_id" : "aws_secret_access_key");
        goto fail;
    }
    c->access_key = ak;
    c->secret_key = sk;
    c->token = tok && tok[0] ? tok : NULL;
    if (!c->token) wipe_free(tok);
    ak = sk = tok = NULL;
    rc = 1;
fail:
    wipe_free(ak);
    wipe_free(sk);
    wipe_free(tok);
    return rc;
}

/* Read a whole (small) file.  NULL with errno set. */
static char *read_small(const char *path, size_t *n)
{
    FILE *f = fopen(path, "rbe");
    if (!f) return NULL;
    ut_buf b = {0};
    char tmp[4096];
    size_t got;
    while ((got = fread(tmp, 1, sizeof tmp, f)) > 0) {
        if (b.len + got > ST_CREDS_FILE_MAX) {
            fclose(f);
            OPENSSL_cleanse(b.p, b.len);
            ut_buf_free(&b);
            errno = EFBIG;
            return NULL;
        }
        ut_buf_put(&b, tmp, got);
    }
    OPENSSL_cleanse(tmp, sizeof tmp);
    int bad = ferror(f);
    fclose(f);
    if (bad) {
        ut_buf_free(&b);
        errno = EIO;
        return NULL;
    }
    ut_buf_putc(&b, 0);
    *n = b.len - 1;
    return (char *)b.p;
}

int st__creds_resolve(const st_s3_opts *o, st_creds *c, char *err, size_t errlen)
{
    int rc = -1;
    char *text = NULL, *path = NULL;
    size_t tn = 0;
    memset(c, 0, sizeof *c);
    if (o->access_key || o->secret_key) {
        if (!o->access_key || !o->access_key[0] || !o->secret_key || !o->secret_key[0]) {
            ut_err(err, errlen, "S3 credentials: access_key and secret_key must both be set");
            goto fail;
        }
        c->access_key = ut_strdup(o->access_key);
        c->secret_key = ut_strdup(o->secret_key);
        if (o->session_token && o->session_token[0]) c->token = ut_strdup(o->session_token);
        snprintf(c->source, sizeof c->source, "options");
        rc = 0;
        goto fail;
    }
    const char *eak = getenv("AWS_ACCESS_KEY_ID"), *esk = getenv("AWS_SECRET_ACCESS_KEY");
    if ((eak && eak[0]) || (esk && esk[0])) {
        if (!eak || !eak[0] || !esk || !esk[0]) {
            ut_err(err, errlen, "S3 credentials: AWS_ACCESS_KEY_ID and AWS_SECRET_ACCESS_KEY "
                                "must both be set");
            goto fail;
        }
        const char *etok = getenv("AWS_SESSION_TOKEN");
        c->access_key = ut_strdup(eak);
        c->secret_key = ut_strdup(esk);
        if (etok && etok[0]) c->token = ut_strdup(etok);
        snprintf(c->source, sizeof c->source, "environment");
        rc = 0;
        goto fail;
    }
    const char *profile = o->profile && o->profile[0] ? o->profile : getenv("AWS_PROFILE");
    if (!profile || !profile[0]) profile = "default";
    int explicit_file = 0;
    if (o->credentials_file && o->credentials_file[0]) {
        path = ut_strdup(o->credentials_file);
        explicit_file = 1;
    } else if (getenv("AWS_SHARED_CREDENTIALS_FILE") && getenv("AWS_SHARED_CREDENTIALS_FILE")[0]) {
        path = ut_strdup(getenv("AWS_SHARED_CREDENTIALS_FILE"));
        explicit_file = 1;
    } else if (getenv("HOME") && getenv("HOME")[0]) {
        ut_buf b = {0};
        ut_buf_printf(&b, "%s/.aws/credentials", getenv("HOME"));
        ut_buf_putc(&b, 0);
        path = (char *)b.p;
    }
    if (path) {
        text = read_small(path, &tn);
        if (!text && (explicit_file || errno != ENOENT)) {
            ut_err(err, errlen, "S3 credentials file %s: %s", path,
                   errno == EFBIG ? "larger than 1 MiB" : strerror(errno));
            goto fail;
        }
    }
    if (text) {
        char perr[200];
        int r = st__creds_parse(text, tn, profile, c, perr, sizeof perr);
        if (r < 0) {
            ut_err(err, errlen, "S3 credentials file %s: %s", path, perr);
            goto fail;
        }
        if (r == 1) {
            snprintf(c->source, sizeof c->source, "file %.120s [%.20s]", path, profile);
            rc = 0;
            goto fail;
        }
        ut_err(err, errlen, "no S3 credentials: no options, no AWS_ACCESS_KEY_ID / "
                            "AWS_SECRET_ACCESS_KEY, and %s has no [%s] profile", path, profile);
        goto fail;
    }
    ut_err(err, errlen, "no S3 credentials: set them in the options, or AWS_ACCESS_KEY_ID / "
                        "AWS_SECRET_ACCESS_KEY, or a [%s] profile in %s", profile,
           path ? path : "~/.aws/credentials");
fail:
    if (text) {
        OPENSSL_cleanse(text, tn);
        free(text);
    }
    free(path);
    if (rc < 0) st__creds_free(c);
    return rc;
}
