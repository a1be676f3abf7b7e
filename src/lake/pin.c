/* Scan pins: how a running scan keeps the trash from deleting the files it
 * listed, whatever trash_grace says (local stores).
 *
 *   scan starts ──► lk_pin_create: "<lake>/.trash/.pins/<pid>-<n>" created,
 *                   flock(LOCK_EX) held, its start time (ms) written in it
 *   scan ends   ──► lk_pin_destroy: unlinked, closed
 *   trash GC    ──► lk_pins_oldest: the oldest start among pins whose lock
 *                   is held; GC deletes only files removed before it
 *
 * A pin is live while its lock is held, i.e. while the scanning process has
 * it open: a process that dies (kill -9) releases it, and the next GC removes
 * the file.  flock locks belong to the open file, so pins of the same process
 * (the server's own queries beside its sinks) count like any other.  A pin
 * that is still empty was just created and is about to be locked: it counts
 * (from its mtime) for PIN_YOUNG_MS.  S3 stores have no pins (lake.h). */
#include "lake/lk_int.h"
#include "log/log.h"

#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/file.h>
#include <sys/stat.h>
#include <unistd.h>

#define PIN_DIR LK_TRASH_DIR "/.pins"
#define PIN_DIR_MAX 2000
#define PIN_PATH_MAX (PIN_DIR_MAX + 300)
#define PIN_YOUNG_MS 60000
#define PIN_TEXT_MAX 32

struct lk_pin {
    int fd;
    int64_t start_ms;
    char path[PIN_PATH_MAX];
};

static unsigned pin_seq;

static int pin_dir(st_store *st, char *out, size_t n)
{
    st_uri(st, PIN_DIR, out, n);
    return strlen(out) + 40 < n ? 0 : -1; /* room for "/<pid>-<n>" */
}

/* Create, lock and fill one pin file.  1 done, 0 try another name, -1 error. */
static int pin_make(lk_pin *p, const char *dir, char *err, size_t errlen)
{
    unsigned n = __atomic_add_fetch(&pin_seq, 1, __ATOMIC_RELAXED);
    snprintf(p->path, sizeof p->path, "%s/%ld-%u", dir, (long)getpid(), n);
    int fd = open(p->path, O_WRONLY | O_CREAT | O_EXCL | O_CLOEXEC, 0644);
    if (fd < 0 && errno == EEXIST) return 0; /* a dead process's stale pin with that name */
    if (fd < 0 && errno == ENOENT) return 0; /* the directory went meanwhile: make it again */
    if (fd < 0) return ut_err(err, errlen, "scan pin %s: %s", p->path, strerror(errno));
    char text[PIN_TEXT_MAX];
    p->start_ms = lk__now_ms();
    int m = snprintf(text, sizeof text, "%lld\n", (long long)p->start_ms);
    struct stat a, b;
    if (flock(fd, LOCK_EX) || write(fd, text, (size_t)m) != m) {
        ut_err(err, errlen, "scan pin %s: %s", p->path, strerror(errno));
        unlink(p->path);
        close(fd);
        return -1;
    }
    if (fstat(fd, &a) || stat(p->path, &b) || a.st_ino != b.st_ino || a.st_dev != b.st_dev) {
        close(fd); /* removed before it was locked: another name */
        return 0;
    }
    p->fd = fd;
    return 1;
}

lk_pin *lk_pin_create(st_store *st, char *err, size_t errlen)
{
    if (errlen) err[0] = 0;
    if (!st || st_is_s3(st)) return NULL;
    char dir[PIN_DIR_MAX];
    if (pin_dir(st, dir, sizeof dir)) {
        ut_err(err, errlen, "scan pins: the lake's path is too long");
        return NULL;
    }
    lk_pin *p = ut_calloc(1, sizeof *p);
    for (int attempt = 0; attempt < 100; attempt++) {
        if (ut_mkdir_p(dir, err, errlen)) break;
        int rc = pin_make(p, dir, err, errlen);
        if (rc > 0) return p;
        if (rc < 0) break;
    }
    if (errlen && !err[0]) ut_err(err, errlen, "scan pin in %s: no free name", dir);
    free(p);
    return NULL;
}

void lk_pin_destroy(lk_pin *p)
{
    if (!p) return;
    unlink(p->path); /* first: it must not look like a dead process's pin */
    close(p->fd);
    free(p);
}

/* The start time of the pin at path, or -1 when it is stale (then removed). */
static int64_t pin_start(const char *path, int64_t now_ms)
{
    int fd = open(path, O_RDONLY | O_CLOEXEC);
    if (fd < 0) return -1; /* removed meanwhile */
    int live = flock(fd, LOCK_EX | LOCK_NB) != 0;
    char text[PIN_TEXT_MAX];
    ssize_t n = pread(fd, text, sizeof text - 1, 0);
    struct stat sb;
    int64_t start = -1, mtime = fstat(fd, &sb) ? now_ms
                             : (int64_t)sb.st_mtim.tv_sec * 1000 + sb.st_mtim.tv_nsec / 1000000;
    if (n > 0) {
        text[n] = 0;
        char *end;
        long long v = strtoll(text, &end, 10);
        if (end != text && *end == '\n' && v > 0) start = v;
    }
    if (!live && n <= 0 && now_ms - mtime < PIN_YOUNG_MS) live = 1; /* being created */
    if (live && start < 0) start = mtime; /* no readable time yet */
    if (!live) {
        struct stat cur; /* still the file we looked at (not a new one by that name) */
        if (stat(path, &cur) == 0 && cur.st_ino == sb.st_ino && cur.st_dev == sb.st_dev)
            unlink(path);
        lg_debug("lake", "removed scan pin %s (its process is gone)", path);
        start = -1;
    }
    close(fd);
    return start;
}

int lk_pins_oldest(st_store *st, int64_t *oldest_ms, char *err, size_t errlen)
{
    if (!st || st_is_s3(st)) return 0;
    char dir[PIN_DIR_MAX], path[PIN_PATH_MAX];
    if (pin_dir(st, dir, sizeof dir)) return ut_err(err, errlen, "scan pins: path too long");
    DIR *d = opendir(dir);
    if (!d) return errno == ENOENT ? 0 : ut_err(err, errlen, "scan pins %s: %s", dir, strerror(errno));
    int found = 0, seen = 0;
    int64_t now = lk__now_ms();
    struct dirent *de;
    while ((de = readdir(d))) {
        if (de->d_name[0] == '.') continue;
        if (++seen > LK_PINS_MAX) {
            closedir(d);
            return ut_err(err, errlen, "scan pins %s: more than %d (nothing is deleted from "
                          "the trash until there are fewer)", dir, LK_PINS_MAX);
        }
        snprintf(path, sizeof path, "%s/%s", dir, de->d_name);
        int64_t start = pin_start(path, now);
        if (start < 0) continue;
        if (!found || start < *oldest_ms) *oldest_ms = start;
        found = 1;
    }
    closedir(d);
    return found;
}
