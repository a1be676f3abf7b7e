/* The local directory store: key "a/b/c" is the file ROOT/a/b/c.
 *
 * Writes go to "<dir>/.tmp-<name>-<pid>-<n>" in the target directory, are
 * fsynced, renamed over the final name and the directory is fsynced, so a
 * reader (or a crash) sees the old object or the whole new one, never a
 * part.  Listings skip ".tmp-*" names (a crash may leave some behind; they
 * are never valid keys).  Deleting the last object of a directory removes
 * the now-empty directories up to the root. */
#include "store/st_int.h"

#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <stdatomic.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/file.h>
#include <sys/stat.h>
#include <unistd.h>

struct st_local {
    char *root; /* absolute, no trailing '/' unless it is "/" */
};

static atomic_ulong tmp_seq;

/* root + "/" + rel into a fresh string. */
static char *join(const st_local *l, const char *rel)
{
    ut_buf b = {0};
    ut_buf_puts(&b, l->root);
    if (rel[0]) {
        if (b.len && b.p[b.len - 1] != '/') ut_buf_putc(&b, '/');
        ut_buf_puts(&b, rel);
    }
    ut_buf_putc(&b, 0);
    return (char *)b.p;
}

static int fsync_dir(const char *dir)
{
    int fd = open(dir, O_RDONLY | O_DIRECTORY | O_CLOEXEC);
    if (fd < 0) return -1;
    int rc = fsync(fd);
    close(fd);
    return rc;
}

/* mkdir -p path (absolute); a directory it creates has its parent fsynced so
 * the new entry survives a crash.  0 or -1 (errno). */
static int mkdir_p(const char *path)
{
    struct stat st;
    if (stat(path, &st) == 0) {
        if (S_ISDIR(st.st_mode)) return 0;
        errno = ENOTDIR;
        return -1;
    }
    char *p = ut_strdup(path);
    int rc = -1;
    size_t n = strlen(p);
    while (n > 1 && p[n - 1] == '/') p[--n] = 0;
    char *slash = strrchr(p, '/');
    if (slash && slash != p) {
        *slash = 0;
        if (mkdir_p(p) < 0) goto fail;
        *slash = '/';
    }
    if (mkdir(p, 0755) < 0) {
        if (errno != EEXIST) goto fail;
    } else if (slash) {
        /* make the new entry durable: fsync the parent (best effort; the
         * object's own fsyncs below still hold) */
        char *parent = slash == p ? ut_strdup("/") : ut_strndup(p, (size_t)(slash - p));
        (void)fsync_dir(parent);
        free(parent);
    }
    rc = 0;
fail:
    free(p);
    return rc;
}

st_local *st__local_open(const char *root, char *err, size_t errlen)
{
    if (!root || !root[0]) {
        ut_err(err, errlen, "local store: empty root directory");
        return NULL;
    }
    char *abs = NULL;
    if (root[0] == '/') {
        abs = ut_strdup(root);
    } else {
        char cwd[PATH_MAX];
        if (!getcwd(cwd, sizeof cwd)) {
            ut_err(err, errlen, "local store %s: getcwd: %s", root, strerror(errno));
            return NULL;
        }
        ut_buf b = {0};
        ut_buf_printf(&b, "%s/%s", cwd, root);
        ut_buf_putc(&b, 0);
        abs = (char *)b.p;
    }
    if (mkdir_p(abs) < 0) {
        ut_err(err, errlen, "local store %s: cannot create directory: %s", abs, strerror(errno));
        free(abs);
        return NULL;
    }
    char *real = realpath(abs, NULL);
    free(abs);
    if (!real) {
        ut_err(err, errlen, "local store %s: %s", root, strerror(errno));
        return NULL;
    }
    st_local *l = ut_calloc(1, sizeof *l);
    l->root = ut_strdup(real);
    free(real);
    return l;
}

void st__local_close(st_local *l)
{
    if (!l) return;
    free(l->root);
    free(l);
}

const char *st__local_root(const st_local *l) { return l->root; }

int st__local_check(st_local *l, char *err, size_t errlen)
{
    char tmp[PATH_MAX];
    snprintf(tmp, sizeof tmp, "%s/.tmp-check-%ld-%lu", l->root, (long)getpid(),
             (unsigned long)atomic_fetch_add(&tmp_seq, 1));
    int fd = open(tmp, O_WRONLY | O_CREAT | O_EXCL | O_CLOEXEC, 0644);
    if (fd < 0)
        return ut_err(err, errlen, "local store %s is not writable: %s", l->root, strerror(errno));
    close(fd);
    unlink(tmp);
    return 0;
}

static int write_all(int fd, const void *p, size_t n)
{
    const char *c = p;
    while (n) {
        ssize_t w = write(fd, c, n);
        if (w < 0 && errno == EINTR) continue;
        if (w < 0) return -1;
        c += w;
        n -= (size_t)w;
    }
    return 0;
}

/* Give the complete file tmp the name path: rename (replacing), or with
 * noreplace link + unlink, which fails with EEXIST when path exists (atomic:
 * two writers racing for one name cannot both win).  0 or -1 (errno). */
static int place(const char *tmp, const char *path, int noreplace)
{
    if (!noreplace) return rename(tmp, path);
    if (link(tmp, path) < 0) return -1;
    (void)unlink(tmp);
    return 0;
}

static int exists_err(const char *key, char *err, size_t errlen)
{
    return ut_err(err, errlen,
                  "put %s: an object already exists at this key (lake files are never "
                  "overwritten)",
                  key);
}

static int local_put(st_local *l, const char *key, int srcfd, const void *p, size_t n,
                     int noreplace, char *err, size_t errlen)
{
    int rc = -1, fd = -1, made = 0;
    char *path = join(l, key), *dir = ut_strdup(path), *tmp = NULL, *buf = NULL;
    char *slash = strrchr(dir, '/');
    const char *base = path + (slash - dir) + 1;
    *slash = 0;
    ut_buf tb = {0};
    ut_buf_printf(&tb, "%s/.tmp-%.100s-%ld-%lu", dir, base, (long)getpid(),
                  (unsigned long)atomic_fetch_add(&tmp_seq, 1));
    ut_buf_putc(&tb, 0);
    tmp = (char *)tb.p;
    /* a concurrent delete may remove the (empty) directory between mkdir_p
     * and open: create it again a few times */
    for (int attempt = 0; fd < 0 && attempt < 5; attempt++) {
        if (mkdir_p(dir) < 0) {
            ut_err(err, errlen, "put %s: cannot create directory %s: %s", key, dir,
                   strerror(errno));
            goto fail;
        }
        fd = open(tmp, O_WRONLY | O_CREAT | O_EXCL | O_CLOEXEC, 0644);
        if (fd < 0 && errno != ENOENT) break;
    }
    if (fd < 0) {
        ut_err(err, errlen, "put %s: cannot create %s: %s", key, tmp, strerror(errno));
        goto fail;
    }
    made = 1;
    if (srcfd >= 0) {
        size_t bufsz = 1 << 20;
        buf = ut_malloc(bufsz);
        for (;;) {
            ssize_t got = read(srcfd, buf, bufsz);
            if (got < 0 && errno == EINTR) continue;
            if (got < 0) {
                ut_err(err, errlen, "put %s: reading the source file: %s", key, strerror(errno));
                goto fail;
            }
            if (got == 0) break;
            if (write_all(fd, buf, (size_t)got) < 0) {
                ut_err(err, errlen, "put %s: write %s: %s", key, tmp, strerror(errno));
                goto fail;
            }
        }
    } else if (write_all(fd, p, n) < 0) {
        ut_err(err, errlen, "put %s: write %s: %s", key, tmp, strerror(errno));
        goto fail;
    }
    if (fsync(fd) < 0) {
        ut_err(err, errlen, "put %s: fsync %s: %s", key, tmp, strerror(errno));
        goto fail;
    }
    int cfd = fd;
    fd = -1;
    if (close(cfd) < 0) {
        ut_err(err, errlen, "put %s: close %s: %s", key, tmp, strerror(errno));
        goto fail;
    }
    if (place(tmp, path, noreplace) < 0) {
        if (noreplace && errno == EEXIST) exists_err(key, err, errlen);
        else ut_err(err, errlen, "put %s: rename to %s: %s", key, path, strerror(errno));
        goto fail;
    }
    made = 0;
    if (fsync_dir(dir) < 0) {
        ut_err(err, errlen, "put %s: fsync directory %s: %s", key, dir, strerror(errno));
        goto fail;
    }
    rc = 0;
fail:
    if (fd >= 0) close(fd);
    if (made) unlink(tmp);
    free(buf);
    free(tmp);
    free(dir);
    free(path);
    return rc;
}

int st__local_put(st_local *l, const char *key, int srcfd, const void *p, size_t n, char *err,
                  size_t errlen)
{
    return local_put(l, key, srcfd, p, n, 0, err, errlen);
}

int st__local_get(st_local *l, const char *key, uint64_t off, uint64_t len, ut_buf *out,
                  char *err, size_t errlen)
{
    int rc = -1, fd = -1;
    char *path = join(l, key);
    struct stat st;
    size_t start = out->len;
    fd = open(path, O_RDONLY | O_CLOEXEC);
    if (fd < 0) {
        if (errno == ENOENT || errno == ENOTDIR) ut_err(err, errlen, "get %s: not found", key);
        else ut_err(err, errlen, "get %s: open %s: %s", key, path, strerror(errno));
        goto fail;
    }
    if (fstat(fd, &st) < 0 || !S_ISREG(st.st_mode)) {
        ut_err(err, errlen, "get %s: not found (not a regular file)", key);
        goto fail;
    }
    uint64_t size = (uint64_t)st.st_size;
    if (off > size || (len && off + len > size)) {
        ut_err(err, errlen, "get %s: range %llu+%llu beyond the object's %llu bytes", key,
               (unsigned long long)off, (unsigned long long)len, (unsigned long long)size);
        goto fail;
    }
    if (!len) len = size - off;
    if (len > ST_GET_MAX) {
        ut_err(err, errlen, "get %s: %llu bytes, more than the %llu one read may return", key,
               (unsigned long long)len, (unsigned long long)ST_GET_MAX);
        goto fail;
    }
    ut_buf_reserve(out, (size_t)len);
    uint64_t done = 0;
    while (done < len) {
        ssize_t got = pread(fd, out->p + out->len, (size_t)(len - done), (off_t)(off + done));
        if (got < 0 && errno == EINTR) continue;
        if (got < 0) {
            ut_err(err, errlen, "get %s: read: %s", key, strerror(errno));
            goto fail;
        }
        if (got == 0) {
            ut_err(err, errlen, "get %s: the file shrank while reading", key);
            goto fail;
        }
        out->len += (size_t)got;
        done += (uint64_t)got;
    }
    rc = 0;
fail:
    if (rc < 0) out->len = start;
    if (fd >= 0) close(fd);
    free(path);
    return rc;
}

int st__local_head(st_local *l, const char *key, uint64_t *size, int64_t *mtime_ms, char *err,
                   size_t errlen)
{
    char *path = join(l, key);
    struct stat st;
    int rc;
    if (stat(path, &st) < 0) {
        if (errno == ENOENT || errno == ENOTDIR) rc = 0;
        else rc = ut_err(err, errlen, "head %s: stat %s: %s", key, path, strerror(errno));
    } else if (!S_ISREG(st.st_mode)) {
        rc = 0;
    } else {
        if (size) *size = (uint64_t)st.st_size;
        if (mtime_ms)
            *mtime_ms = (int64_t)st.st_mtim.tv_sec * 1000 + st.st_mtim.tv_nsec / 1000000;
        rc = 1;
    }
    free(path);
    return rc;
}

/* Remove the directories of path (a file just removed) left empty, up to
 * (not including) the root.  Modifies path. */
static void rmdir_empty(const st_local *l, char *path)
{
    size_t rootlen = strlen(l->root);
    for (;;) {
        char *slash = strrchr(path, '/');
        if (!slash || (size_t)(slash - path) <= rootlen) break;
        *slash = 0;
        if (rmdir(path) < 0) break;
    }
}

int st__local_delete(st_local *l, const char *key, char *err, size_t errlen)
{
    int rc = -1;
    char *path = join(l, key);
    if (unlink(path) < 0) {
        if (errno == ENOENT || errno == ENOTDIR) rc = 0;
        else ut_err(err, errlen, "delete %s: unlink %s: %s", key, path, strerror(errno));
        goto fail;
    }
    rmdir_empty(l, path);
    rc = 0;
fail:
    free(path);
    return rc;
}

int st__local_rename(st_local *l, const char *from, const char *to, char *err, size_t errlen)
{
    int rc = -1;
    char *src = join(l, from), *dst = join(l, to), *dir = ut_strdup(dst);
    *strrchr(dir, '/') = 0;
    struct stat st;
    if (stat(src, &st) < 0) {
        if (errno == ENOENT || errno == ENOTDIR) rc = 0;
        else ut_err(err, errlen, "rename %s: stat %s: %s", from, src, strerror(errno));
        goto done;
    }
    if (!S_ISREG(st.st_mode)) {
        rc = 0; /* not an object (as st_head) */
        goto done;
    }
    if (mkdir_p(dir) < 0) {
        ut_err(err, errlen, "rename %s: cannot create directory %s: %s", from, dir,
               strerror(errno));
        goto done;
    }
    if (rename(src, dst) < 0) {
        if (errno == ENOENT) rc = 0; /* moved or deleted meanwhile */
        else ut_err(err, errlen, "rename %s to %s: %s", from, to, strerror(errno));
        goto done;
    }
    (void)fsync_dir(dir); /* best effort: a lost rename leaves the object in place,
                             which the lake's start-up collection handles */
    char *sdir = ut_strdup(src);
    *strrchr(sdir, '/') = 0;
    (void)fsync_dir(sdir);
    free(sdir);
    rmdir_empty(l, src);
    rc = 1;
done:
    free(dir);
    free(dst);
    free(src);
    return rc;
}

/* ---- listing ---------------------------------------------------------------- */

typedef struct walk {
    const st_local *l;
    const char *prefix;
    size_t plen;
    st_list_cb cb;
    st_upload_cb ucb; /* set: list the temp files instead (st__local_uploads) */
    void *ctx;
    char *err;
    size_t errlen;
} walk;

static int cmpname(const void *a, const void *b)
{
    return strcmp(*(char *const *)a, *(char *const *)b);
}

/* Whether keys under directory rel[0..rl) ("a/b") can start with the prefix:
 * rel + "/" and the prefix agree on their common length. */
static int dir_may_match(const walk *w, const char *rel, size_t rl)
{
    for (size_t i = 0; i < w->plen && i <= rl; i++)
        if (w->prefix[i] != (i < rl ? rel[i] : '/')) return 0;
    return 1;
}

/* The key a temp file name stands for: ".tmp-up-<pid>-<seq>-<name>" (the
 * writer's) or ".tmp-<name>-<pid>-<seq>" (st_put's) gives <name>. */
static void tmp_target(const char *tname, char *out, size_t n)
{
    const char *t = tname + 5;
    if (!strncmp(t, "up-", 3)) {
        const char *p = t + 3;
        for (int dashes = 0; *p && dashes < 2; p++)
            if (*p == '-') dashes++;
        snprintf(out, n, "%s", p);
        return;
    }
    snprintf(out, n, "%s", t);
    for (int k = 0; k < 2; k++) {
        char *dash = strrchr(out, '-');
        if (dash) *dash = 0;
    }
}

/* A temp file of directory rel[0..base): hand it to w->ucb when its target
 * key is under the prefix. */
static int tmp_found(walk *w, DIR *d, const char *tname, const char *rel, size_t base,
                     const struct stat *st)
{
    char name[512];
    tmp_target(tname, name, sizeof name);
    ut_buf key = {0};
    ut_buf_put(&key, rel, base);
    if (base) ut_buf_putc(&key, '/');
    ut_buf_puts(&key, name);
    ut_buf_putc(&key, 0);
    int r = 0;
    if (!strncmp((const char *)key.p, w->prefix, w->plen)) {
        int held = 0, fd = openat(dirfd(d), tname, O_RDONLY | O_CLOEXEC | O_NOFOLLOW);
        if (fd >= 0) {
            held = flock(fd, LOCK_EX | LOCK_NB) < 0 && errno == EWOULDBLOCK;
            close(fd); /* (drops a lock taken just now) */
        }
        int64_t ms = (int64_t)st->st_mtim.tv_sec * 1000 + st->st_mtim.tv_nsec / 1000000;
        r = w->ucb(w->ctx, (const char *)key.p, rel, ms, held);
    }
    ut_buf_free(&key);
    return r;
}

/* Walk directory rel (relative to the root, "" for the root). */
static int walk_dir(walk *w, ut_buf *rel, int depth)
{
    int rc = -1;
    char *abs = join(w->l, (const char *)rel->p);
    char **names = NULL;
    size_t n = 0, cap = 0;
    DIR *d = opendir(abs);
    if (!d) {
        if (errno == ENOENT || errno == ENOTDIR) rc = 0;
        else ut_err(w->err, w->errlen, "list %s: opendir %s: %s", w->prefix, abs, strerror(errno));
        goto fail;
    }
    if (depth > 256) {
        ut_err(w->err, w->errlen, "list %s: directories nested deeper than 256 under %s",
               w->prefix, w->l->root);
        goto fail;
    }
    struct dirent *e;
    while ((e = readdir(d))) {
        if (!strcmp(e->d_name, ".") || !strcmp(e->d_name, "..")) continue;
        if (!strncmp(e->d_name, ".tmp-", 5) != !!w->ucb) {
            if (!w->ucb) continue;
            if (e->d_type != DT_DIR && e->d_type != DT_UNKNOWN) continue;
        }
        if (n == cap) {
            cap = cap ? cap * 2 : 64;
            names = ut_realloc(names, cap * sizeof *names);
        }
        names[n++] = ut_strdup(e->d_name);
    }
    if (n) qsort(names, n, sizeof *names, cmpname);
    size_t base = rel->len;
    for (size_t i = 0; i < n; i++) {
        rel->len = base;
        if (base) ut_buf_putc(rel, '/');
        ut_buf_puts(rel, names[i]);
        size_t rl = rel->len;
        ut_buf_putc(rel, 0);
        struct stat st;
        if (fstatat(dirfd(d), names[i], &st, AT_SYMLINK_NOFOLLOW) < 0) continue; /* raced */
        if (S_ISDIR(st.st_mode)) {
            if (!dir_may_match(w, (const char *)rel->p, rl)) continue;
            rel->len = rl;
            int r = walk_dir(w, rel, depth + 1);
            if (r) {
                rc = r;
                goto fail;
            }
        } else if (S_ISREG(st.st_mode) && w->ucb) {
            if (strncmp(names[i], ".tmp-", 5)) continue;
            int r = tmp_found(w, d, names[i], (const char *)rel->p, base, &st);
            if (r) {
                rc = r;
                goto fail;
            }
        } else if (S_ISREG(st.st_mode)) {
            if (rl > ST_KEY_MAX || strncmp((const char *)rel->p, w->prefix, w->plen)) continue;
            int64_t ms = (int64_t)st.st_mtim.tv_sec * 1000 + st.st_mtim.tv_nsec / 1000000;
            int r = w->cb(w->ctx, (const char *)rel->p, (uint64_t)st.st_size, ms);
            if (r) {
                rc = r;
                goto fail;
            }
        }
    }
    rc = 0;
fail:
    for (size_t i = 0; i < n; i++) free(names[i]);
    free(names);
    if (d) closedir(d);
    free(abs);
    return rc;
}

static int local_walk(st_local *l, const char *prefix, st_list_cb cb, st_upload_cb ucb,
                      void *ctx, char *err, size_t errlen)
{
    walk w = {l, prefix, strlen(prefix), cb, ucb, ctx, err, errlen};
    ut_buf rel = {0};
    /* start at the deepest directory the prefix names */
    const char *slash = strrchr(prefix, '/');
    if (slash) ut_buf_put(&rel, prefix, (size_t)(slash - prefix));
    ut_buf_putc(&rel, 0);
    rel.len--;
    int rc = walk_dir(&w, &rel, 0);
    ut_buf_free(&rel);
    return rc;
}

int st__local_list(st_local *l, const char *prefix, st_list_cb cb, void *ctx, char *err,
                   size_t errlen)
{
    return local_walk(l, prefix, cb, NULL, ctx, err, errlen);
}

int st__local_move(st_local *l, const char *key, const char *src, char *err, size_t errlen)
{
    int rc = -1;
    char *path = join(l, key), *dir = ut_strdup(path);
    *strrchr(dir, '/') = 0;
    int fd = open(src, O_RDONLY | O_CLOEXEC);
    if (fd < 0) {
        ut_err(err, errlen, "put %s: cannot open %s: %s", key, src, strerror(errno));
        goto fail;
    }
    int synced = fsync(fd) == 0; /* the content is durable before its name appears */
    close(fd);
    if (!synced) {
        ut_err(err, errlen, "put %s: fsync %s: %s", key, src, strerror(errno));
        goto fail;
    }
    if (mkdir_p(dir) < 0) {
        ut_err(err, errlen, "put %s: cannot create directory %s: %s", key, dir, strerror(errno));
        goto fail;
    }
    if (place(src, path, 1) == 0) {
        if (fsync_dir(dir) < 0) {
            ut_err(err, errlen, "put %s: fsync directory %s: %s", key, dir, strerror(errno));
            goto fail;
        }
        rc = 0;
        goto fail;
    }
    if (errno == EEXIST) {
        exists_err(key, err, errlen);
        goto fail;
    }
    if (errno != EXDEV) {
        ut_err(err, errlen, "put %s: rename %s: %s", key, src, strerror(errno));
        goto fail;
    }
    /* another file system: copy, then drop the source */
    fd = open(src, O_RDONLY | O_CLOEXEC);
    if (fd < 0) {
        ut_err(err, errlen, "put %s: cannot open %s: %s", key, src, strerror(errno));
        goto fail;
    }
    rc = local_put(l, key, fd, NULL, 0, 1, err, errlen);
    close(fd);
    if (rc == 0) unlink(src);
fail:
    free(dir);
    free(path);
    return rc;
}

/* ---- the streaming writer's temp files ----------------------------------------- */

int st__local_tmp_open(st_local *l, const char *key, char **tmp, char *err, size_t errlen)
{
    char *path = join(l, key), *dir = ut_strdup(path);
    char *slash = strrchr(dir, '/');
    const char *base = path + (slash - dir) + 1;
    *slash = 0;
    ut_buf tb = {0};
    ut_buf_printf(&tb, "%s/.tmp-up-%ld-%lu-%.150s", dir, (long)getpid(),
                  (unsigned long)atomic_fetch_add(&tmp_seq, 1), base);
    ut_buf_putc(&tb, 0);
    int fd = -1;
    for (int attempt = 0; fd < 0 && attempt < 5; attempt++) { /* (a racing delete: local_put) */
        if (mkdir_p(dir) < 0) {
            ut_err(err, errlen, "put %s: cannot create directory %s: %s", key, dir,
                   strerror(errno));
            goto fail;
        }
        fd = open((const char *)tb.p, O_WRONLY | O_CREAT | O_EXCL | O_CLOEXEC, 0644);
        if (fd < 0 && errno != ENOENT) break;
    }
    if (fd < 0) {
        ut_err(err, errlen, "put %s: cannot create %s: %s", key, (const char *)tb.p,
               strerror(errno));
        goto fail;
    }
    if (flock(fd, LOCK_EX | LOCK_NB) < 0) { /* a new file: nobody else holds it */
        ut_err(err, errlen, "put %s: cannot lock %s: %s", key, (const char *)tb.p,
               strerror(errno));
        close(fd);
        unlink((const char *)tb.p);
        fd = -1;
        goto fail;
    }
    *tmp = (char *)tb.p;
    tb.p = NULL;
fail:
    ut_buf_free(&tb);
    free(dir);
    free(path);
    return fd;
}

int st__local_tmp_place(st_local *l, const char *key, int fd, const char *tmp, char *err,
                        size_t errlen)
{
    char *path = join(l, key), *dir = ut_strdup(path);
    *strrchr(dir, '/') = 0;
    int rc = -1;
    if (fsync(fd) < 0) {
        ut_err(err, errlen, "put %s: fsync %s: %s", key, tmp, strerror(errno));
        close(fd);
        goto fail;
    }
    if (close(fd) < 0) {
        ut_err(err, errlen, "put %s: close %s: %s", key, tmp, strerror(errno));
        goto fail;
    }
    if (rename(tmp, path) < 0) {
        ut_err(err, errlen, "put %s: rename to %s: %s", key, path, strerror(errno));
        goto fail;
    }
    if (fsync_dir(dir) < 0) {
        ut_err(err, errlen, "put %s: fsync directory %s: %s", key, dir, strerror(errno));
        goto done; /* in place, not durable: still a failure to report */
    }
    rc = 0;
    goto done;
fail:
    unlink(tmp);
done:
    free(dir);
    free(path);
    return rc;
}

int st__local_uploads(st_local *l, const char *prefix, st_upload_cb cb, void *ctx, char *err,
                      size_t errlen)
{
    return local_walk(l, prefix, NULL, cb, ctx, err, errlen);
}

int st__local_tmp_remove(st_local *l, const char *id, char *err, size_t errlen)
{
    const char *name = strrchr(id, '/');
    name = name ? name + 1 : id;
    if (strncmp(name, ".tmp-", 5) || strstr(id, "..") || id[0] == '/')
        return ut_err(err, errlen, "abort %.200s: not a temp file of the store", id);
    char *path = join(l, id);
    int rc = unlink(path) < 0 && errno != ENOENT
                 ? ut_err(err, errlen, "abort %s: unlink %s: %s", id, path, strerror(errno))
                 : 0;
    free(path);
    return rc;
}
