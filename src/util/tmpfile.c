/* Temp files that say whose they are.
 *
 *   ut_tmp_create ──► "<dir>/<prefix><pid>-<seq>-<tag><suffix>", created
 *   O_EXCL and held with flock(LOCK_EX) on the writer's fd until it closes
 *   that fd (after the file was moved into place or unlinked)
 *
 *   ut_tmp_gc ──► a "<prefix><pid>-..." file of dir whose lock it can take
 *   (no living process holds it: on this machine, in another pid namespace,
 *   or on another machine of a file system flock works on) and whose pid is
 *   no process here, or that nobody wrote for stale_ms, is deleted.
 *
 * The lock is what keeps a living writer's file whatever its pid means here;
 * the pid keeps the file of a writer that holds no lock (a file system
 * without flock) while a process of that pid lives.  A writer checks after
 * taking its lock that its name is still its file (a collector may have
 * taken the lock in the instant between the create and the lock, and
 * deleted it): then it creates another. */
#include "util/util.h"

#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <signal.h>
#include <stdatomic.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/file.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>

static atomic_uint tmp_seq;

/* Is fd still the file at path? */
static int same_file(int fd, const char *path)
{
    struct stat a, b;
    return fstat(fd, &a) == 0 && stat(path, &b) == 0 && a.st_dev == b.st_dev &&
           a.st_ino == b.st_ino;
}

int ut_tmp_create(const char *dir, const char *prefix, const char *tag, const char *suffix,
                  char *out, size_t n, char *err, size_t errlen)
{
    char t[64];
    size_t i = 0;
    for (; tag[i] && i + 1 < sizeof t; i++) /* a tag never makes a path of its own */
        t[i] = (tag[i] == '/' || tag[i] == '.' || (unsigned char)tag[i] < 0x20) ? '_' : tag[i];
    t[i] = 0;
    for (int tries = 0; tries < 8; tries++) {
        int m = snprintf(out, n, "%s/%s%ld-%u-%s%s", dir, prefix, (long)getpid(),
                         atomic_fetch_add(&tmp_seq, 1), t, suffix);
        if (m < 0 || (size_t)m >= n)
            return ut_err(err, errlen, "temp file in %.200s: path too long", dir);
        int fd = open(out, O_WRONLY | O_CREAT | O_EXCL | O_CLOEXEC, 0600);
        if (fd < 0 && errno == EEXIST) continue;
        if (fd < 0) return ut_err(err, errlen, "cannot create %s: %s", out, strerror(errno));
        int locked = flock(fd, LOCK_EX | LOCK_NB) == 0;
        if (!locked && errno != EWOULDBLOCK) return fd; /* no flock here: the pid protects it */
        if (locked && same_file(fd, out)) return fd;
        close(fd); /* a collector had it in that instant: it is gone, or goes now */
        unlink(out);
    }
    return ut_err(err, errlen, "cannot create a temp file in %s (collected 8 times)", dir);
}

/* The pid of "<prefix><pid>-...", or 0. */
static long name_pid(const char *name, const char *prefix, size_t plen)
{
    if (strncmp(name, prefix, plen)) return 0;
    char *end;
    long pid = strtol(name + plen, &end, 10);
    return pid > 0 && end != name + plen && *end == '-' ? pid : 0;
}

/* Delete the file `path` of writer pid if its writer is gone.  1 deleted. */
static int collect_one(const char *path, long pid, int64_t stale_ms)
{
    int fd = open(path, O_RDONLY | O_CLOEXEC | O_NOFOLLOW | O_NONBLOCK);
    if (fd < 0) return 0;
    struct stat st;
    int removed = 0;
    if (flock(fd, LOCK_EX | LOCK_NB) && errno == EWOULDBLOCK) goto out; /* its writer lives */
    if (fstat(fd, &st) || !S_ISREG(st.st_mode)) goto out;
    struct timespec now;
    clock_gettime(CLOCK_REALTIME, &now);
    int64_t age_ms = ((int64_t)now.tv_sec - (int64_t)st.st_mtim.tv_sec) * 1000 +
                     (now.tv_nsec - st.st_mtim.tv_nsec) / 1000000;
    int gone = kill((pid_t)pid, 0) < 0 && errno == ESRCH;
    if ((gone || age_ms > stale_ms) && same_file(fd, path) && unlink(path) == 0) removed = 1;
out:
    close(fd); /* (drops the lock) */
    return removed;
}

int ut_tmp_gc(const char *dir, const char *prefix, int64_t stale_ms)
{
    DIR *d = opendir(dir);
    if (!d) return 0;
    size_t plen = strlen(prefix);
    int removed = 0;
    struct dirent *de;
    while ((de = readdir(d))) {
        long pid = name_pid(de->d_name, prefix, plen);
        if (!pid) continue; /* (our own files too: we hold their locks) */
        char path[4400];
        if (snprintf(path, sizeof path, "%s/%s", dir, de->d_name) >= (int)sizeof path) continue;
        removed += collect_one(path, pid, stale_ms);
    }
    closedir(d);
    return removed;
}
