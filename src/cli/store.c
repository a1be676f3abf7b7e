/* sluice store — put / get / head / rm / ls objects in a local directory or
 * an S3-compatible store, through the same st_* code the lake uses.  For
 * operators ("what is in s3://bucket/lake/?") and for the S3 tests. */
#include "cli/cli.h"
#include "store/store.h"
#include "util/util.h"

#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

static const char *more =
    "operations:\n"
    "  put URI FILE     store FILE ('-' = standard input) at URI\n"
    "  get URI [FILE]   write the object (or --offset/--length bytes of it) to FILE or stdout\n"
    "  head URI         print size and last-modified time; exit 1 if missing\n"
    "  rm URI           delete (a missing object is not an error)\n"
    "  ls URI           list objects under a prefix: SIZE<TAB>MODIFIED<TAB>KEY\n"
    "  uploads URI      list unfinished writes under a prefix (S3 multipart uploads, local\n"
    "                   temp files): ID<TAB>TIME<TAB>HELD<TAB>KEY (HELD: 1 a living writer's,\n"
    "                   0 nobody's, -1 cannot tell)\n"
    "  abort URI ID     abort the unfinished write ID of the key URI\n"
    "\n"
    "put with FILE '-' streams standard input (st_writer: S3 multipart above one part).\n"
    "\n"
    "URI is a local path or s3://BUCKET/KEY (ls: s3://BUCKET/PREFIX).  S3 credentials come\n"
    "from AWS_ACCESS_KEY_ID / AWS_SECRET_ACCESS_KEY / AWS_SESSION_TOKEN, else the\n"
    "shared credentials file (AWS_SHARED_CREDENTIALS_FILE or ~/.aws/credentials,\n"
    "profile --profile / AWS_PROFILE / default).  The endpoint defaults to\n"
    "$SLUICE_S3_ENDPOINT, $AWS_ENDPOINT_URL, else AWS for the region.\n";

typedef struct target {
    st_store *st;
    char *key; /* key or list prefix */
} target;

/* Open the store URI names.  for_list: URI is a prefix (may be empty or
 * end in '/').  0 or -1 with a message. */
static int open_target(const char *uri, int for_list, const st_s3_opts *base, target *t,
                       char *err, size_t errlen)
{
    memset(t, 0, sizeof *t);
    if (!strncmp(uri, "s3://", 5)) {
        const char *b = uri + 5, *slash = strchr(b, '/');
        char *bucket = slash ? ut_strndup(b, (size_t)(slash - b)) : ut_strdup(b);
        st_s3_opts o = *base;
        o.bucket = bucket;
        o.prefix = "";
        t->st = st_s3_create(&o, err, errlen);
        free(bucket);
        if (!t->st) return -1;
        t->key = ut_strdup(slash ? slash + 1 : "");
        if (!for_list && !t->key[0]) return ut_err(err, errlen, "%s names no object key", uri);
        return 0;
    }
    if (for_list) {
        t->st = st_local_create(uri, err, errlen);
        t->key = ut_strdup("");
        return t->st ? 0 : -1;
    }
    /* a local file: its directory is the root, its name the key */
    const char *slash = strrchr(uri, '/');
    char *dir = slash ? (slash == uri ? ut_strdup("/") : ut_strndup(uri, (size_t)(slash - uri)))
                      : ut_strdup(".");
    t->st = st_local_create(dir, err, errlen);
    free(dir);
    t->key = ut_strdup(slash ? slash + 1 : uri);
    return t->st ? 0 : -1;
}

typedef struct ls_ctx {
    FILE *out;
    long n;
} ls_ctx;

static int uploads_cb(void *vctx, const char *key, const char *id, int64_t ms, int held)
{
    ls_ctx *c = vctx;
    char ts[40];
    ut_ts_format(ts, ms * 1000);
    fprintf(c->out, "%s\t%s\t%d\t%s\n", id, ts, held, key);
    c->n++;
    return 0;
}

/* Stream stdin into key through a writer.  0 / -1. */
static int put_stream(st_store *st, const char *key, char *err, size_t errlen)
{
    st_writer *w = st_writer_open(st, key, err, errlen);
    if (!w) return -1;
    char tmp[65536];
    size_t got;
    int rc = 0;
    while (rc == 0 && (got = fread(tmp, 1, sizeof tmp, stdin)) > 0)
        rc = st_writer_write(w, tmp, got, err, errlen);
    if (rc == 0 && ferror(stdin)) rc = ut_err(err, errlen, "reading standard input failed");
    if (rc == 0) rc = st_writer_commit(w, NULL, err, errlen);
    st_writer_destroy(w);
    return rc;
}

static int ls_cb(void *vctx, const char *key, uint64_t size, int64_t mtime_ms)
{
    ls_ctx *c = vctx;
    char ts[40];
    ut_ts_format(ts, mtime_ms * 1000);
    fprintf(c->out, "%llu\t%s\t%s\n", (unsigned long long)size, ts, key);
    c->n++;
    return 0;
}

/* Copy bytes [off, off+len) of key (len 0: to the end) to path or stdout,
 * 64 MiB per request so objects of any size stream through. */
static int get_to_file(st_store *st, const char *key, uint64_t off, uint64_t len,
                       const char *path, char *err, size_t errlen)
{
    int rc = -1;
    ut_buf b = {0};
    FILE *f = NULL;
    uint64_t size = 0;
    if (!len) {
        int h = st_head(st, key, &size, NULL, err, errlen);
        if (h < 0) goto fail;
        if (h == 0) {
            char u[2048];
            ut_err(err, errlen, "get %s: not found", st_uri(st, key, u, sizeof u));
            goto fail;
        }
        if (off > size) {
            ut_err(err, errlen, "get %s: offset %llu beyond the object's %llu bytes", key,
                   (unsigned long long)off, (unsigned long long)size);
            goto fail;
        }
        len = size - off;
    }
    f = path ? fopen(path, "wb") : stdout;
    if (!f) {
        ut_err(err, errlen, "cannot create %s: %s", path, strerror(errno));
        goto fail;
    }
    for (uint64_t done = 0; done < len;) {
        uint64_t n = len - done < ((uint64_t)64 << 20) ? len - done : (uint64_t)64 << 20;
        ut_buf_reset(&b);
        if (st_get(st, key, off + done, n, &b, err, errlen) < 0) goto fail;
        if (fwrite(b.p, 1, b.len, f) != b.len) {
            ut_err(err, errlen, "write %s: %s", path ? path : "stdout", strerror(errno));
            goto fail;
        }
        done += n;
    }
    rc = 0;
fail:
    if (f && f != stdout && fclose(f) != 0 && rc == 0)
        rc = ut_err(err, errlen, "write %s: %s", path, strerror(errno));
    if (f == stdout && fflush(f) != 0 && rc == 0)
        rc = ut_err(err, errlen, "write stdout: %s", strerror(errno));
    ut_buf_free(&b);
    return rc;
}

int cli_store(int argc, char **argv)
{
    const char *endpoint = NULL, *region = NULL, *profile = NULL, *creds_file = NULL;
    long part_bytes = -1, max_keys = -1, retries = -1, timeout = -1, off = 0, len = 0;
    cli_flag flags[] = {
        {"endpoint", 'e', CLI_STR, &endpoint, "URL", "S3 endpoint, e.g. http://127.0.0.1:4569"},
        {"region", 'r', CLI_STR, &region, "REGION", "S3 region (default $AWS_REGION or us-east-1)"},
        {"profile", 0, CLI_STR, &profile, "NAME", "credentials file profile"},
        {"credentials-file", 0, CLI_STR, &creds_file, "FILE", "AWS shared credentials file"},
        {"part-bytes", 0, CLI_INT, &part_bytes, "N", "S3 multipart part size (min 5 MiB, default 16 MiB)"},
        {"max-keys", 0, CLI_INT, &max_keys, "N", "ls: keys per ListObjectsV2 page (1..1000)"},
        {"retries", 0, CLI_INT, &retries, "N", "S3 retries per request (default 5)"},
        {"timeout", 0, CLI_INT, &timeout, "S", "S3 per-request timeout in seconds (default 60)"},
        {"offset", 'o', CLI_INT, &off, "N", "get: first byte"},
        {"length", 'n', CLI_INT, &len, "N", "get: number of bytes (0 = to the end)"},
        {0}};
    cli_cmd cmd = {"store", "put|get|head|rm|ls|uploads|abort URI [FILE|ID]",
                   "operate on objects in a local directory or S3-compatible store",
                   flags, 2, 3, more};
    char *pos[3];
    int npos, rc = cli_parse(&cmd, argc, argv, pos, &npos);
    if (rc >= 0) return rc;
    const char *op = pos[0], *uri = pos[1], *file = npos > 2 ? pos[2] : NULL;
    int is_put = !strcmp(op, "put"), is_get = !strcmp(op, "get"), is_head = !strcmp(op, "head"),
        is_rm = !strcmp(op, "rm"), is_ls = !strcmp(op, "ls"), is_up = !strcmp(op, "uploads"),
        is_abort = !strcmp(op, "abort");
    if (!(is_put || is_get || is_head || is_rm || is_ls || is_up || is_abort)) {
        cli_errorf("store", "unknown operation '%s' (put, get, head, rm, ls, uploads, abort)", op);
        return 2;
    }
    if ((is_put && !file) || (is_abort && !file) || ((is_head || is_rm || is_ls || is_up) && file)) {
        cli_errorf("store", "%s takes %s", op,
                   is_put ? "URI FILE" : is_abort ? "URI ID" : "only URI");
        return 2;
    }
    if (off < 0 || len < 0) {
        cli_errorf("store", "--offset and --length must be >= 0");
        return 2;
    }
    if (!endpoint) endpoint = getenv("SLUICE_S3_ENDPOINT");
    if (!endpoint) endpoint = getenv("AWS_ENDPOINT_URL");
    if (!region) region = getenv("AWS_REGION");
    if (!region) region = getenv("AWS_DEFAULT_REGION");
    st_s3_opts o = {.endpoint = endpoint, .region = region, .profile = profile,
                    .credentials_file = creds_file,
                    .part_bytes = part_bytes > 0 ? (uint64_t)part_bytes : 0,
                    .max_retries = retries > 0 ? (int)retries : 0,
                    .timeout_s = timeout > 0 ? (int)timeout : 0};
    char err[1024];
    target t;
    rc = 1;
    if (open_target(uri, is_ls || is_up, &o, &t, err, sizeof err) < 0) goto fail;
    if (is_put) {
        int r;
        if (!strcmp(file, "-")) {
            r = put_stream(t.st, t.key, err, sizeof err);
        } else {
            r = st_put_file(t.st, t.key, file, err, sizeof err);
        }
        if (r < 0) goto fail;
    } else if (is_get) {
        if (get_to_file(t.st, t.key, (uint64_t)off, (uint64_t)len, file, err, sizeof err) < 0)
            goto fail;
    } else if (is_head) {
        uint64_t size = 0;
        int64_t ms = 0;
        int h = st_head(t.st, t.key, &size, &ms, err, sizeof err);
        if (h < 0) goto fail;
        if (h == 0) {
            char u[2048];
            snprintf(err, sizeof err, "%s: not found", st_uri(t.st, t.key, u, sizeof u));
            goto fail;
        }
        char ts[40];
        ut_ts_format(ts, ms * 1000);
        printf("size\t%llu\nmodified\t%s\n", (unsigned long long)size, ts);
    } else if (is_rm) {
        if (st_delete(t.st, t.key, err, sizeof err) < 0) goto fail;
    } else if (is_up) {
        ls_ctx c = {stdout, 0};
        if (st_uploads(t.st, t.key, uploads_cb, &c, err, sizeof err) < 0) goto fail;
    } else if (is_abort) {
        if (st_upload_abort(t.st, t.key, file, err, sizeof err) < 0) goto fail;
    } else {
        if (max_keys > 0) st_set_list_page(t.st, (int)max_keys);
        ls_ctx c = {stdout, 0};
        if (st_list(t.st, t.key, ls_cb, &c, err, sizeof err) < 0) goto fail;
    }
    rc = 0;
fail:
    if (rc) fprintf(stderr, "sluice store %s: %s\n", op, err);
    st_destroy(t.st);
    free(t.key);
    return rc;
}
