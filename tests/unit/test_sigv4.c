/* SigV4 against the AWS signature test suite in tests/data/sigv4/
 * (Apache-2.0, see its LICENSE).  Each case directory holds request.txt (the
 * HTTP request), context.json (credentials, region, service, time, whether
 * to normalise the path, sign the body, omit the session token) and the
 * expected header-signing results (header-canonical-request.txt,
 * header-string-to-sign.txt, header-signature.txt, header-signed-request.txt)
 * and presigned-URL results (query-*.txt).
 *
 * The test plays the part of the signer around st_sigv4: it adds the
 * X-Amz-Date header, X-Amz-Security-Token when the context has a token (and
 * does not say omit_session_token), and X-Amz-Content-Sha256 when sign_body;
 * the payload is the request body.  Prints one `ok sigv4 CASE` /
 * `FAIL sigv4 CASE: ...` line per case and signing mode. */
#include "store/st_int.h"
#include "t.h"

#include <dirent.h>
#include <stdlib.h>
#include <string.h>

static char *slurp(const char *dir, const char *name, size_t *len)
{
    char path[4096];
    snprintf(path, sizeof path, "%s/%s", dir, name);
    FILE *f = fopen(path, "rb");
    if (!f) return NULL;
    ut_buf b = {0};
    char tmp[4096];
    size_t n;
    while ((n = fread(tmp, 1, sizeof tmp, f)) > 0) ut_buf_put(&b, tmp, n);
    fclose(f);
    ut_buf_putc(&b, 0);
    if (len) *len = b.len - 1;
    return (char *)b.p;
}

/* Value of "name": in a flat-ish JSON text: a string (unquoted, no escapes
 * in this suite), or the literal true/false/number.  NULL when absent. */
static char *json_field(const char *js, const char *name)
{
    char pat[128];
    snprintf(pat, sizeof pat, "\"%s\"", name);
    const char *p = strstr(js, pat);
    if (!p) return NULL;
    p = strchr(p + strlen(pat), ':');
    if (!p) return NULL;
    p++;
    while (*p == ' ' || *p == '\t' || *p == '\n' || *p == '\r') p++;
    if (*p == '"') {
        const char *e = strchr(p + 1, '"');
        return e ? ut_strndup(p + 1, (size_t)(e - p - 1)) : NULL;
    }
    size_t n = strcspn(p, ",}\n \t\r");
    return ut_strndup(p, n);
}

typedef struct sreq {
    char *method, *path, *query;
    char *headers[64];
    int nh;
    char *body;
    size_t body_len;
} sreq;

static void sreq_free(sreq *r)
{
    free(r->method);
    free(r->path);
    free(r->query);
    for (int i = 0; i < r->nh; i++) free(r->headers[i]);
    free(r->body);
}

/* Parse request.txt: "METHOD TARGET HTTP/1.1", header lines (a line starting
 * with whitespace continues the previous header), blank line, body. */
static int parse_request(const char *txt, size_t n, sreq *r)
{
    memset(r, 0, sizeof *r);
    const char *end = txt + n, *p = txt;
    const char *eol = memchr(p, '\n', (size_t)(end - p));
    if (!eol) eol = end;
    const char *sp = memchr(p, ' ', (size_t)(eol - p));
    const char *ver = NULL;
    for (const char *q = eol - 1; q > p; q--)
        if (*q == ' ') {
            ver = q;
            break;
        }
    if (!sp || !ver || ver <= sp) return -1;
    r->method = ut_strndup(p, (size_t)(sp - p));
    const char *target = sp + 1, *tend = ver;
    const char *qm = memchr(target, '?', (size_t)(tend - target));
    r->path = ut_strndup(target, (size_t)((qm ? qm : tend) - target));
    r->query = qm ? ut_strndup(qm + 1, (size_t)(tend - qm - 1)) : ut_strdup("");
    p = eol < end ? eol + 1 : end;
    while (p < end) {
        eol = memchr(p, '\n', (size_t)(end - p));
        if (!eol) eol = end;
        size_t ln = (size_t)(eol - p);
        if (ln && p[ln - 1] == '\r') ln--;
        if (ln == 0) {
            p = eol < end ? eol + 1 : end;
            break;
        }
        if ((*p == ' ' || *p == '\t') && r->nh > 0) {
            ut_buf b = {0};
            ut_buf_puts(&b, r->headers[r->nh - 1]);
            ut_buf_putc(&b, '\n');
            ut_buf_put(&b, p, ln);
            ut_buf_putc(&b, 0);
            free(r->headers[r->nh - 1]);
            r->headers[r->nh - 1] = (char *)b.p;
        } else if (r->nh < 60) {
            r->headers[r->nh++] = ut_strndup(p, ln);
        } else {
            return -1;
        }
        p = eol < end ? eol + 1 : end;
    }
    r->body_len = (size_t)(end - p);
    r->body = ut_strndup(p, r->body_len);
    return 0;
}

static void chomp(char *s)
{
    size_t n = strlen(s);
    while (n && (s[n - 1] == '\n' || s[n - 1] == '\r')) s[--n] = 0;
}

/* Compare got with the file's text; appends a reason to why on mismatch. */
static void expect(ut_buf *why, const char *what, const char *want, const char *got)
{
    if (!want) {
        ut_buf_printf(why, "\n    %s: expected file missing", what);
        return;
    }
    if (strcmp(want, got)) ut_buf_printf(why, "\n    %s differs:\n--- want\n%s\n--- got\n%s", what, want, got);
}

/* Run one case in both modes; returns the number of failed modes. */
static int run_case(const char *root, const char *name)
{
    char dir[2048];
    snprintf(dir, sizeof dir, "%s/%s", root, name);
    size_t rn = 0;
    char *reqtxt = slurp(dir, "request.txt", &rn), *ctx = slurp(dir, "context.json", NULL);
    char *ak = NULL, *sk = NULL, *tok = NULL, *region = NULL, *service = NULL, *ts = NULL,
         *norm = NULL, *signbody = NULL, *omit = NULL, *expires = NULL;
    char *want_creq = slurp(dir, "header-canonical-request.txt", NULL),
         *want_sts = slurp(dir, "header-string-to-sign.txt", NULL),
         *want_sig = slurp(dir, "header-signature.txt", NULL),
         *want_signed = slurp(dir, "header-signed-request.txt", NULL),
         *want_qcreq = slurp(dir, "query-canonical-request.txt", NULL),
         *want_qsts = slurp(dir, "query-string-to-sign.txt", NULL),
         *want_qsig = slurp(dir, "query-signature.txt", NULL);
    sreq r = {0};
    ut_buf why = {0}, qwhy = {0}, creq = {0}, sts = {0}, authz = {0}, query = {0};
    char err[256] = "", date[17] = "";
    char *extra[3] = {NULL, NULL, NULL};
    int failed = 0;

    if (!reqtxt || !ctx || parse_request(reqtxt, rn, &r) < 0) {
        ut_buf_printf(&why, "cannot read or parse request.txt / context.json");
        goto report;
    }
    ak = json_field(ctx, "access_key_id");
    sk = json_field(ctx, "secret_access_key");
    tok = json_field(ctx, "token");
    region = json_field(ctx, "region");
    service = json_field(ctx, "service");
    ts = json_field(ctx, "timestamp");
    norm = json_field(ctx, "normalize");
    signbody = json_field(ctx, "sign_body");
    omit = json_field(ctx, "omit_session_token");
    expires = json_field(ctx, "expiration_in_seconds");
    if (!ak || !sk || !region || !service || !ts || strlen(ts) != 20) {
        ut_buf_printf(&why, "context.json lacks credentials/region/service/timestamp");
        goto report;
    }
    /* 2015-08-30T12:36:00Z -> 20150830T123600Z */
    snprintf(date, sizeof date, "%.4s%.2s%.2sT%.2s%.2s%.2sZ", ts, ts + 5, ts + 8, ts + 11, ts + 14,
             ts + 17);
    int use_token = tok && !(omit && !strcmp(omit, "true"));

    /* header signing */
    {
        const char *hs[72];
        int nh = 0;
        for (int i = 0; i < r.nh; i++) hs[nh++] = r.headers[i];
        ut_buf hb = {0};
        ut_buf_printf(&hb, "X-Amz-Date:%s", date);
        ut_buf_putc(&hb, 0);
        extra[0] = (char *)hb.p;
        hs[nh++] = extra[0];
        if (use_token) {
            ut_buf tb = {0};
            ut_buf_printf(&tb, "X-Amz-Security-Token:%s", tok);
            ut_buf_putc(&tb, 0);
            extra[1] = (char *)tb.p;
            hs[nh++] = extra[1];
        }
        if (signbody && !strcmp(signbody, "true")) {
            char hex[65];
            ut_buf cb = {0};
            st__sha256_hex(r.body, r.body_len, hex);
            ut_buf_printf(&cb, "x-amz-content-sha256:%s", hex);
            ut_buf_putc(&cb, 0);
            extra[2] = (char *)cb.p;
            hs[nh++] = extra[2];
        }
        st_sigv4_req q = {
            .method = r.method, .path = r.path, .query = r.query, .headers = hs, .nheaders = nh,
            .payload = r.body, .payload_len = r.body_len, .amz_date = date, .region = region,
            .service = service, .access_key = ak, .secret_key = sk,
            .normalize_path = norm && !strcmp(norm, "true"),
        };
        if (st_sigv4(&q, &creq, &sts, &authz, err, sizeof err) < 0) {
            ut_buf_printf(&why, "st_sigv4: %s", err);
        } else {
            expect(&why, "canonical request", want_creq, (const char *)creq.p);
            expect(&why, "string to sign", want_sts, (const char *)sts.p);
            const char *sig = strstr((const char *)authz.p, "Signature=");
            if (want_sig) chomp(want_sig);
            expect(&why, "signature", want_sig, sig ? sig + 10 : "");
            /* the Authorization line of the signed request */
            const char *al = want_signed ? strstr(want_signed, "\nAuthorization:") : NULL;
            if (!al) {
                ut_buf_printf(&why, "\n    header-signed-request.txt has no Authorization line");
            } else {
                char *line = ut_strndup(al + 15, strcspn(al + 15, "\r\n"));
                expect(&why, "Authorization", line, (const char *)authz.p);
                free(line);
            }
        }

        /* presigned (query) signing: only the request's own headers */
        st_sigv4_req pq = q;
        pq.nheaders = r.nh;
        pq.headers = (const char *const *)r.headers;
        int exp_s = expires ? atoi(expires) : 3600;
        ut_buf_reset(&creq);
        ut_buf_reset(&sts);
        if (st_sigv4_presign(&pq, use_token ? tok : NULL, exp_s, &creq, &sts, &query, err,
                             sizeof err) < 0) {
            ut_buf_printf(&qwhy, "st_sigv4_presign: %s", err);
        } else {
            expect(&qwhy, "canonical request", want_qcreq, (const char *)creq.p);
            expect(&qwhy, "string to sign", want_qsts, (const char *)sts.p);
            const char *sig = strstr((const char *)query.p, "X-Amz-Signature=");
            if (want_qsig) chomp(want_qsig);
            expect(&qwhy, "signature", want_qsig, sig ? sig + 16 : "");
        }
    }

report:
    if (why.len) {
        printf("FAIL sigv4 %s (header): %.*s\n", name, (int)why.len, why.p);
        failed++;
    } else {
        printf("ok sigv4 %s (header)\n", name);
    }
    if (qwhy.len) {
        printf("FAIL sigv4 %s (query): %.*s\n", name, (int)qwhy.len, qwhy.p);
        failed++;
    } else if (!why.len || reqtxt) {
        printf("ok sigv4 %s (query)\n", name);
    }
    sreq_free(&r);
    for (int i = 0; i < 3; i++) free(extra[i]);
    free(reqtxt);
    free(ctx);
    free(ak);
    free(sk);
    free(tok);
    free(region);
    free(service);
    free(ts);
    free(norm);
    free(signbody);
    free(omit);
    free(expires);
    free(want_creq);
    free(want_sts);
    free(want_sig);
    free(want_signed);
    free(want_qcreq);
    free(want_qsts);
    free(want_qsig);
    ut_buf_free(&why);
    ut_buf_free(&qwhy);
    ut_buf_free(&creq);
    ut_buf_free(&sts);
    ut_buf_free(&authz);
    ut_buf_free(&query);
    return failed;
}

static int cmpstr(const void *a, const void *b)
{
    return strcmp(*(char *const *)a, *(char *const *)b);
}

TEST(sigv4_suite)
{
    char root[1024];
    snprintf(root, sizeof root, "%s/sigv4", t_testdata());
    DIR *d = opendir(root);
    CHECK_MSG(d, "cannot open %s", root);
    char *names[512];
    int n = 0;
    struct dirent *e;
    while ((e = readdir(d)) && n < 512) {
        if (e->d_name[0] == '.') continue;
        char p[2048];
        snprintf(p, sizeof p, "%s/%s/request.txt", root, e->d_name);
        FILE *f = fopen(p, "r");
        if (!f) continue;
        fclose(f);
        names[n++] = strdup(e->d_name);
    }
    closedir(d);
    qsort(names, (size_t)n, sizeof *names, cmpstr);
    int failed = 0;
    for (int i = 0; i < n; i++) failed += run_case(root, names[i]);
    for (int i = 0; i < n; i++) free(names[i]);
    printf("sigv4 suite: %d cases, %d header+query checks failed\n", n, failed);
    CHECK_MSG(n >= 30, "only %d cases found under %s", n, root);
    CHECK_EQ_INT(failed, 0);
}

/* Values not in the suite: S3 keeps the path as sent, other services
 * encode it again; bad input is refused. */
TEST(sigv4_s3_path_and_errors)
{
    const char *hs[] = {"Host:127.0.0.1:4569", "X-Amz-Date:20150830T123600Z"};
    st_sigv4_req q = {.method = "GET", .path = "/b/a%20b/c", .query = "", .headers = hs,
                      .nheaders = 2, .payload_hash = "UNSIGNED-PAYLOAD",
                      .amz_date = "20150830T123600Z", .region = "us-east-1", .service = "s3",
                      .access_key = "AK", .secret_key = "SK"};
    ut_buf cr = {0};
    char err[256];
    CHECK(st_sigv4(&q, &cr, NULL, NULL, err, sizeof err) == 0);
    CHECK(!strncmp((char *)cr.p, "GET\n/b/a%20b/c\n\nhost:127.0.0.1:4569\n", 35));
    q.service = "service";
    CHECK(st_sigv4(&q, &cr, NULL, NULL, err, sizeof err) == 0);
    CHECK(!strncmp((char *)cr.p, "GET\n/b/a%2520b/c\n", 17));
    q.amz_date = "2015-08-30";
    CHECK(st_sigv4(&q, &cr, NULL, NULL, err, sizeof err) < 0);
    CHECK(strstr(err, "amz_date"));
    q.amz_date = "20150830T123600Z";
    const char *bad[] = {"no colon here"};
    q.headers = bad;
    q.nheaders = 1;
    CHECK(st_sigv4(&q, &cr, NULL, NULL, err, sizeof err) < 0);
    ut_buf_free(&cr);
}
