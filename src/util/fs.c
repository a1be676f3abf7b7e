/* File-system helpers. */
#include "util/util.h"

#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

int ut_mkdir_p(const char *path, char *err, size_t errlen)
{
    char p[4096];
    size_t n = strlen(path);
    if (n == 0 || n >= sizeof p) return ut_err(err, errlen, "bad directory path '%s'", path);
    memcpy(p, path, n + 1);
    for (size_t i = 1; i <= n; i++) {
        if (p[i] != '/' && p[i] != 0) continue;
        char c = p[i];
        p[i] = 0;
        struct stat st;
        if (mkdir(p, 0755) && errno != EEXIST)
            return ut_err(err, errlen, "cannot create directory %s: %s", p, strerror(errno));
        if (c == 0 && stat(p, &st) == 0 && !S_ISDIR(st.st_mode)) /* EEXIST of a file */
            return ut_err(err, errlen, "cannot create directory %s: a file that is not a "
                          "directory is there", p);
        p[i] = c;
    }
    return 0;
}

static int write_all(int fd, const char *p, size_t n)
{
    while (n) {
        ssize_t w = write(fd, p, n);
        if (w < 0 && errno == EINTR) continue;
        if (w <= 0) return -1;
        p += w, n -= (size_t)w;
    }
    return 0;
}

static int sync_parent(const char *path)
{
    const char *slash = strrchr(path, '/');
    if (!slash) return 0;
    size_t n = (size_t)(slash - path);
    char *dir = ut_malloc(n + 2);
    memcpy(dir, path, n);
    dir[n] = 0;
    int fd = open(n ? dir : "/", O_RDONLY | O_DIRECTORY | O_CLOEXEC);
    free(dir);
    if (fd < 0) return -1;
    int rc = fsync(fd);
    close(fd);
    return rc;
}

/* <path>.tmp written and fsync'ed, renamed over path, the directory
 * fsync'ed: a crash leaves the old file or the new one. */
int ut_file_replace(const char *path, const void *data, size_t n, int mode, char *err,
                    size_t errlen)
{
    size_t pl = strlen(path);
    char *tmp = ut_malloc(pl + 5);
    memcpy(tmp, path, pl);
    memcpy(tmp + pl, ".tmp", 5);
    int fd = open(tmp, O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, mode);
    int rc = fd < 0 || write_all(fd, data, n) || fsync(fd) ? -1 : 0;
    int en = errno;
    if (fd >= 0) close(fd);
    if (rc == 0 && rename(tmp, path) < 0) rc = -1, en = errno;
    if (rc == 0 && sync_parent(path) < 0) rc = -1, en = errno;
    if (rc) unlink(tmp);
    free(tmp);
    return rc ? ut_err(err, errlen, "cannot write %s: %s", path, strerror(en)) : 0;
}

int ut_file_read(const char *path, size_t cap, ut_buf *out, char *err, size_t errlen)
{
    int fd = open(path, O_RDONLY | O_CLOEXEC);
    if (fd < 0) {
        if (errno == ENOENT) return 1;
        return ut_err(err, errlen, "cannot open %s: %s", path, strerror(errno));
    }
    char chunk[4096];
    for (;;) {
        ssize_t r = read(fd, chunk, sizeof chunk);
        if (r < 0 && errno == EINTR) continue;
        if (r < 0) {
            int en = errno;
            close(fd);
            return ut_err(err, errlen, "cannot read %s: %s", path, strerror(en));
        }
        if (r == 0) break;
        if (out->len + (size_t)r > cap) {
            close(fd);
            return ut_err(err, errlen, "%s is over %zu bytes", path, cap);
        }
        ut_buf_put(out, chunk, (size_t)r);
    }
    close(fd);
    return 0;
}
