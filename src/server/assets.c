/* The console's files, compiled into the binary (build/gen/ui_assets.c from
 * ui/ by scripts/embed_ui.sh), served under "/".
 *
 * Content-Type from the extension; ETag from the file's checksum and length
 * (If-None-Match answers 304); Cache-Control no-cache, so a new binary's
 * files are picked up at once while unchanged ones cost a 304.  Text files
 * are gzip-compressed once, on first use, for clients that accept gzip.  A
 * path that names no file and has no extension in its last segment is a
 * client route (/tables/t1_events): index.html.  Every answer carries a
 * Content-Security-Policy allowing only the server's own scripts. */
#include "server/sv_int.h"

#include <pthread.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <zlib.h>

#define MAX_ASSETS 256

typedef struct gz_copy {
    unsigned char *p;
    size_t n; /* 0: not compressed (small, or not smaller) */
} gz_copy;

static gz_copy gz[MAX_ASSETS];
static pthread_once_t gz_once = PTHREAD_ONCE_INIT;

static const char *content_type(const char *path)
{
    static const char *const map[][2] = {
        {".html", "text/html; charset=utf-8"}, {".js", "text/javascript; charset=utf-8"},
        {".mjs", "text/javascript; charset=utf-8"}, {".css", "text/css; charset=utf-8"},
        {".json", "application/json"}, {".svg", "image/svg+xml"}, {".png", "image/png"},
        {".ico", "image/x-icon"}, {".txt", "text/plain; charset=utf-8"}};
    const char *dot = strrchr(path, '.');
    for (size_t i = 0; dot && i < sizeof map / sizeof map[0]; i++)
        if (!strcmp(dot, map[i][0])) return map[i][1];
    return "application/octet-stream";
}

static void gzip_one(const sv__asset *a, gz_copy *g)
{
    if (a->len < 512 || !strncmp(content_type(a->path), "image/png", 9)) return;
    z_stream z;
    memset(&z, 0, sizeof z);
    if (deflateInit2(&z, 9, Z_DEFLATED, 15 + 16, 8, Z_DEFAULT_STRATEGY) != Z_OK) return;
    size_t cap = deflateBound(&z, (uLong)a->len) + 32;
    unsigned char *out = ut_malloc(cap);
    z.next_in = (unsigned char *)a->data;
    z.avail_in = (uInt)a->len;
    z.next_out = out;
    z.avail_out = (uInt)cap;
    int rc = deflate(&z, Z_FINISH);
    size_t n = cap - z.avail_out;
    deflateEnd(&z);
    if (rc != Z_STREAM_END || n >= a->len) {
        free(out);
        return;
    }
    g->p = out;
    g->n = n;
}

static void gzip_all(void)
{
    for (int i = 0; i < sv__nassets && i < MAX_ASSETS; i++) gzip_one(&sv__assets[i], &gz[i]);
}

static int find(const char *path)
{
    for (int i = 0; i < sv__nassets; i++)
        if (!strcmp(sv__assets[i].path, path)) return i;
    return -1;
}

int sv_accepts_gzip(const char *ae)
{
    for (const char *p = ae; p && *p;) {
        p += strspn(p, " \t,");
        size_t n = strcspn(p, " \t;,");
        int named = (n == 4 && !strncasecmp(p, "gzip", 4)) || (n == 1 && *p == '*');
        const char *end = p + strcspn(p, ",");
        double q = 1.0;
        for (const char *x = p + n; x < end; x++) /* a parameter q=VALUE */
            if ((*x == 'q' || *x == 'Q') && x[1] == '=' && (x[-1] == ';' || x[-1] == ' ' || x[-1] == '\t')) {
                q = strtod(x + 2, NULL);
                break;
            }
        if (named) return q > 0;
        p = end;
    }
    return 0;
}

static int accepts_gzip(struct MHD_Connection *c)
{
    return sv_accepts_gzip(MHD_lookup_connection_value(c, MHD_HEADER_KIND, "Accept-Encoding"));
}

static void common_headers(struct MHD_Response *r, const char *etag)
{
    MHD_add_response_header(r, "ETag", etag);
    MHD_add_response_header(r, "Cache-Control", "no-cache");
    MHD_add_response_header(r, "Vary", "Accept-Encoding");
    MHD_add_response_header(r, "X-Content-Type-Options", "nosniff");
    MHD_add_response_header(r, "Referrer-Policy", "no-referrer");
    MHD_add_response_header(r, "Content-Security-Policy",
                            "default-src 'self'; img-src 'self' data:; frame-ancestors 'none'; "
                            "base-uri 'none'; form-action 'none'");
}

static enum MHD_Result send_asset(sv_server *s, struct MHD_Connection *c, int code,
                            const sv__asset *a, const void *body, size_t n, int gzipped,
                            const char *etag)
{
    struct MHD_Response *r =
        MHD_create_response_from_buffer(n, (void *)body, MHD_RESPMEM_PERSISTENT);
    if (!r) return MHD_NO;
    MHD_add_response_header(r, "Content-Type", content_type(a->path));
    if (gzipped) MHD_add_response_header(r, "Content-Encoding", "gzip");
    common_headers(r, etag);
    enum MHD_Result rc = MHD_queue_response(c, (unsigned)code, r);
    MHD_destroy_response(r);
    __atomic_fetch_add(&s->http_codes[code / 100], 1, __ATOMIC_RELAXED);
    return rc;
}

enum MHD_Result sv__asset_get(sv_server *s, struct MHD_Connection *c, const char *url)
{
    pthread_once(&gz_once, gzip_all);
    int i = strcmp(url, "/") ? find(url) : find("/index.html");
    if (i < 0) {
        const char *last = strrchr(url, '/');
        if (last && strchr(last, '.')) return sv__reply_error(s, c, 404, "no such file");
        i = find("/index.html");
        if (i < 0) return sv__reply_error(s, c, 404, "the console is not built in");
    }
    const sv__asset *a = &sv__assets[i];
    int use_gz = i < MAX_ASSETS && gz[i].n && accepts_gzip(c);
    char etag[80];
    size_t el = strlen(a->etag);
    if (use_gz && el >= 2 && el < sizeof etag - 4)
        snprintf(etag, sizeof etag, "%.*s-gz\"", (int)(el - 1), a->etag);
    else
        snprintf(etag, sizeof etag, "%s", a->etag);
    const char *inm = MHD_lookup_connection_value(c, MHD_HEADER_KIND, "If-None-Match");
    if (inm && strstr(inm, etag)) return send_asset(s, c, 304, a, "", 0, 0, etag);
    if (use_gz) return send_asset(s, c, 200, a, gz[i].p, gz[i].n, 1, etag);
    return send_asset(s, c, 200, a, a->data, a->len, 0, etag);
}
