/* store — the public st_* calls: key checks, then the local or S3 backend. */
#include "store/st_int.h"

#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

/* Check segments of s[0..n); allow_trailing_slash for list prefixes. */
static int check_path(const char *what, const char *s, int allow_empty, int allow_trailing,
                      char *err, size_t errlen)
{
    size_t n = strlen(s);
    if (n == 0) {
        if (allow_empty) return 0;
        return ut_err(err, errlen, "empty %s", what);
    }
    if (n > ST_KEY_MAX)
        return ut_err(err, errlen, "%s longer than %d bytes: %.60s...", what, ST_KEY_MAX, s);
    for (size_t i = 0; i < n; i++)
        if ((unsigned char)s[i] < 0x20 || s[i] == 0x7f)
            return ut_err(err, errlen, "%s %.200s: control character at byte %zu", what, s, i);
    if (s[0] == '/') return ut_err(err, errlen, "%s %.200s: must not start with '/'", what, s);
    size_t i = 0;
    while (i < n) {
        size_t j = i;
        while (j < n && s[j] != '/') j++;
        size_t sl = j - i;
        if (sl == 0) {
            if (!(allow_trailing && j == n))
                return ut_err(err, errlen, "%s %.200s: empty path segment", what, s);
        } else if ((sl == 1 && s[i] == '.') || (sl == 2 && s[i] == '.' && s[i + 1] == '.')) {
            return ut_err(err, errlen, "%s %.200s: '.' and '..' segments are not allowed", what, s);
        } else if (sl >= 5 && !memcmp(s + i, ".tmp-", 5) && (j < n || !allow_trailing)) {
            return ut_err(err, errlen, "%s %.200s: names starting \".tmp-\" are reserved", what,
                          s);
        }
        i = j + 1;
        if (j == n - 1 && s[j] == '/' && !allow_trailing)
            return ut_err(err, errlen, "%s %.200s: must not end with '/'", what, s);
    }
    return 0;
}

int st__key_check(const char *key, char *err, size_t errlen)
{
    if (!key) return ut_err(err, errlen, "no key");
    return check_path("key", key, 0, 0, err, errlen);
}

int st__prefix_check(const char *prefix, char *err, size_t errlen)
{
    if (!prefix) return 0;
    return check_path("prefix", prefix, 1, 1, err, errlen);
}

st_store *st_local_create(const char *root, char *err, size_t errlen)
{
    st_local *l = st__local_open(root, err, errlen);
    if (!l) return NULL;
    st_store *s = ut_calloc(1, sizeof *s);
    s->local = l;
    return s;
}

st_store *st_s3_create(const st_s3_opts *o, char *err, size_t errlen)
{
    st_s3 *b = st__s3_open(o, err, errlen);
    if (!b) return NULL;
    st_store *s = ut_calloc(1, sizeof *s);
    s->is_s3 = 1;
    s->s3 = b;
    return s;
}

void st_destroy(st_store *s)
{
    if (!s) return;
    if (s->is_s3) st__s3_close(s->s3);
    else st__local_close(s->local);
    free(s);
}

int st_check(st_store *s, char *err, size_t errlen)
{
    return s->is_s3 ? st__s3_check(s->s3, err, errlen) : st__local_check(s->local, err, errlen);
}

int st_put_file(st_store *s, const char *key, const char *path, char *err, size_t errlen)
{
    int rc = -1;
    FILE *f = NULL;
    if (st__key_check(key, err, errlen) < 0) goto fail;
    f = fopen(path, "rbe");
    if (!f) {
        ut_err(err, errlen, "put %s: cannot open %s: %s", key, path, strerror(errno));
        goto fail;
    }
    rc = s->is_s3 ? st__s3_put(s->s3, key, fileno(f), NULL, 0, err, errlen)
                  : st__local_put(s->local, key, fileno(f), NULL, 0, err, errlen);
fail:
    if (f) fclose(f);
    return rc;
}

int st_move_file(st_store *s, const char *key, const char *path, char *err, size_t errlen)
{
    if (st__key_check(key, err, errlen) < 0) return -1;
    if (!s->is_s3) return st__local_move(s->local, key, path, err, errlen);
    /* S3 has no atomic "create only" for every server: a HEAD first (the
     * writers' unique names make a race for one key impossible in practice) */
    int have = st__s3_head(s->s3, key, NULL, NULL, err, errlen);
    if (have < 0) return -1;
    if (have)
        return ut_err(err, errlen,
                      "put %s: an object already exists at this key (lake files are never "
                      "overwritten)",
                      key);
    int rc = st_put_file(s, key, path, err, errlen);
    if (rc == 0) unlink(path);
    return rc;
}

int st_put(st_store *s, const char *key, const void *p, size_t n, char *err, size_t errlen)
{
    if (st__key_check(key, err, errlen) < 0) return -1;
    if (!p && n) return ut_err(err, errlen, "put %s: NULL data", key);
    return s->is_s3 ? st__s3_put(s->s3, key, -1, p ? p : "", n, err, errlen)
                    : st__local_put(s->local, key, -1, p ? p : "", n, err, errlen);
}

int st_get(st_store *s, const char *key, uint64_t off, uint64_t len, ut_buf *out, char *err,
           size_t errlen)
{
    if (st__key_check(key, err, errlen) < 0) return -1;
    if (len > ST_GET_MAX)
        return ut_err(err, errlen, "get %s: %llu bytes asked, more than the %llu a read may return",
                      key, (unsigned long long)len, (unsigned long long)ST_GET_MAX);
    if (len && off + len < off) return ut_err(err, errlen, "get %s: range overflows", key);
    return s->is_s3 ? st__s3_get(s->s3, key, off, len, out, err, errlen)
                    : st__local_get(s->local, key, off, len, out, err, errlen);
}

int st_head(st_store *s, const char *key, uint64_t *size, int64_t *mtime_ms, char *err,
            size_t errlen)
{
    if (st__key_check(key, err, errlen) < 0) return -1;
    return s->is_s3 ? st__s3_head(s->s3, key, size, mtime_ms, err, errlen)
                    : st__local_head(s->local, key, size, mtime_ms, err, errlen);
}

int st_delete(st_store *s, const char *key, char *err, size_t errlen)
{
    if (st__key_check(key, err, errlen) < 0) return -1;
    return s->is_s3 ? st__s3_delete(s->s3, key, err, errlen)
                    : st__local_delete(s->local, key, err, errlen);
}

/* S3: the bytes are read, stored at `to`, then `from` is deleted. */
static int s3_rename(st_store *s, const char *from, const char *to, char *err, size_t errlen)
{
    ut_buf b = {0};
    int rc = -1;
    if (st__s3_get(s->s3, from, 0, 0, &b, err, errlen) < 0) {
        int have = st__s3_head(s->s3, from, NULL, NULL, err, errlen);
        if (have == 0) rc = 0; /* moved or deleted meanwhile */
        goto done;
    }
    if (st__s3_put(s->s3, to, -1, b.p ? (const void *)b.p : "", b.len, err, errlen) < 0 ||
        st__s3_delete(s->s3, from, err, errlen) < 0)
        goto done;
    rc = 1;
done:
    ut_buf_free(&b);
    return rc;
}

int st_rename(st_store *s, const char *from, const char *to, char *err, size_t errlen)
{
    if (st__key_check(from, err, errlen) < 0 || st__key_check(to, err, errlen) < 0) return -1;
    if (!strcmp(from, to)) return ut_err(err, errlen, "rename %s: to itself", from);
    return s->is_s3 ? s3_rename(s, from, to, err, errlen)
                    : st__local_rename(s->local, from, to, err, errlen);
}

int st_list(st_store *s, const char *prefix, st_list_cb cb, void *ctx, char *err, size_t errlen)
{
    if (!prefix) prefix = "";
    if (st__prefix_check(prefix, err, errlen) < 0) return -1;
    return s->is_s3 ? st__s3_list(s->s3, prefix, cb, ctx, err, errlen)
                    : st__local_list(s->local, prefix, cb, ctx, err, errlen);
}

const char *st_uri(const st_store *s, const char *key, char *out, size_t n)
{
    if (!key) key = "";
    if (s->is_s3) return st__s3_uri(s->s3, key, out, n);
    const char *root = st__local_root(s->local);
    if (!key[0]) snprintf(out, n, "%s", root);
    else snprintf(out, n, "%s%s%s", root, root[strlen(root) - 1] == '/' ? "" : "/", key);
    return out;
}

int st_is_s3(const st_store *s) { return s->is_s3; }

void st_set_list_page(st_store *s, int max_keys)
{
    if (s->is_s3) st__s3_set_list_page(s->s3, max_keys);
}
