/* Committed offsets of cursor consumers: <stream>/cursors/<consumer>, one
 * decimal offset, replaced atomically (write temp, fsync, rename, fsync dir). */
#include "journal/jr_int.h"

#include <errno.h>
#include <fcntl.h>
#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

int jr_cursor_get(jr_stream *s, const char *consumer, uint64_t *offset, char *err, size_t errlen)
{
    if (!ut_name_ok(UT_NAME_CURSOR, consumer))
        return ut_err(err, errlen, "consumer name '%s' is not valid", consumer);
    char path[4200], buf[64];
    snprintf(path, sizeof path, "%s/cursors/%s", s->dir, consumer);
    *offset = 0;
    int fd = open(path, O_RDONLY | O_CLOEXEC);
    if (fd < 0) {
        if (errno == ENOENT) return 0;
        return ut_err(err, errlen, "%s: %s", path, strerror(errno));
    }
    ssize_t n = read(fd, buf, sizeof buf - 1);
    close(fd);
    if (n <= 0) return ut_err(err, errlen, "%s: empty or unreadable", path);
    buf[n] = 0;
    char *end;
    errno = 0;
    unsigned long long v = strtoull(buf, &end, 10);
    if (errno || end == buf || (*end && *end != '\n'))
        return ut_err(err, errlen, "%s: not an offset", path);
    *offset = v;
    return 0;
}

int jr_cursor_commit(jr_stream *s, const char *consumer, uint64_t offset, char *err, size_t errlen)
{
    if (!ut_name_ok(UT_NAME_CURSOR, consumer))
        return ut_err(err, errlen, "consumer name '%s' is not valid", consumer);
    char dir[4200], path[4300], tmp[4400], buf[32];
    snprintf(dir, sizeof dir, "%s/cursors", s->dir);
    if (mkdir(dir, 0755) && errno != EEXIST)
        return ut_err(err, errlen, "%s: %s", dir, strerror(errno));
    snprintf(path, sizeof path, "%s/%s", dir, consumer);
    snprintf(tmp, sizeof tmp, "%s.tmp", path);
    int n = snprintf(buf, sizeof buf, "%" PRIu64 "\n", offset);
    int fd = open(tmp, O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0644);
    if (fd < 0) return ut_err(err, errlen, "%s: %s", tmp, strerror(errno));
    int ok = write(fd, buf, (size_t)n) == n && fsync(fd) == 0;
    close(fd);
    if (!ok || rename(tmp, path) || jr__fsync_dir(dir))
        return ut_err(err, errlen, "%s: cannot commit: %s", path, strerror(errno));
    return 0;
}
