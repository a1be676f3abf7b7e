/* Which file is which: globs are matched every poll, each path is known by
 * (dev, inode) and a fingerprint of its first bytes.
 *
 * - same inode, same first bytes: the same file (renamed or not);
 * - same inode, other first bytes or shorter than its offset: the inode was
 *   reused or the file truncated (copytruncate) while we did not look: the
 *   old entry becomes an orphan, the file is new from 0;
 * - a new inode whose first bytes are an orphan's or a vanished file's: the
 *   same content (the copy of copytruncate, a .gz of a rotated file): it
 *   takes that entry over and resumes at its offset;
 * - a new inode whose first bytes are those of a file still open: a copy in
 *   progress; it waits (rotate_wait for a plain copy, for ever for a .gz)
 *   until the original is truncated or goes away. */
#include "tail/tl_int.h"

#include <errno.h>
#include <fcntl.h>
#include <glob.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>
#include <xxhash.h>

static int is_gz(const char *path)
{
    size_t n = strlen(path);
    return n > 3 && !strcmp(path + n - 3, ".gz");
}

/* Hash of the first len bytes (fewer if the file is shorter: *got). */
int tl__fingerprint(int fd, gzFile gz, uint32_t len, uint64_t *fp, uint32_t *got)
{
    char buf[TL__FP_BYTES];
    if (len > TL__FP_BYTES) len = TL__FP_BYTES;
    ssize_t n;
    if (gz) {
        gzrewind(gz);
        n = gzread(gz, buf, len);
        gzrewind(gz);
    } else {
        n = pread(fd, buf, len, 0);
    }
    if (n < 0) return -1;
    *got = (uint32_t)n;
    *fp = XXH64(buf, (size_t)n, 0x7a11);
    return 0;
}

/* The first bytes of the file at fd equal entry en's. */
int tl__same_start(int fd, gzFile gz, const tl__entry *en)
{
    uint64_t fp;
    uint32_t got;
    if (en->fp_len == 0) return 0;
    if (tl__fingerprint(fd, gz, en->fp_len, &fp, &got)) return 0;
    return got == en->fp_len && fp == en->fp;
}

tl__file *tl__open(tl__src *s, tl__entry *en, int fd, int gz)
{
    tl__file *f = ut_calloc(1, sizeof *f);
    f->e = en;
    f->fd = fd;
    if (gz) {
        int d = dup(fd);
        f->gz = d >= 0 ? gzdopen(d, "rb") : NULL;
        if (!f->gz && d >= 0) close(d);
    }
    uint64_t skip = en->offset;
    if (f->gz) {
        char tmp[65536];
        while (skip) {
            int n = gzread(f->gz, tmp, (unsigned)(skip < sizeof tmp ? skip : sizeof tmp));
            if (n <= 0) break;
            skip -= (uint64_t)n;
        }
    } else {
        lseek(fd, (off_t)en->offset, SEEK_SET);
        skip = 0;
    }
    f->read_pos = f->sent_pos = en->offset - skip;
    f->lines = tl_lines_create(s->cf->max_line_bytes, s->have_start ? &s->start_re : NULL,
                               f->read_pos);
    snprintf(f->opened_at, sizeof f->opened_at, "%s", en->path);
    f->active_ms = tl__now_ms();
    s->files[s->nfiles++] = f;
    s->st.files++;
    lg_debug("tail", "source %s: %s opened at offset %llu", s->cf->name, en->path,
             (unsigned long long)f->read_pos);
    return f;
}

void tl__close(tl__src *s, int i)
{
    tl__file *f = s->files[i];
    s->st.cut_lines += tl_lines_cut(f->lines);
    if (f->gz) gzclose(f->gz);
    close(f->fd);
    tl_lines_destroy(f->lines);
    free(f);
    s->files[i] = s->files[--s->nfiles];
}

void tl__truncated(tl__src *s, tl__file *f)
{
    ut_error e;
    tl__entry *o = tl__entry_add(s, &e);
    tl__entry *en = f->e;
    if (o) {
        uint64_t id = o->id;
        *o = *en;
        o->flags |= TL__ORPHAN;
        en->id = id;
    }
    lg_info("tail", "source %s: %s was truncated at offset %llu (copytruncate?): reading it "
            "again from 0", s->cf->name, en->path, (unsigned long long)en->offset);
    en->offset = 0;
    en->fp_len = 0;
    s->st.cut_lines += tl_lines_cut(f->lines);
    tl_lines_destroy(f->lines);
    f->lines = tl_lines_create(s->cf->max_line_bytes, s->have_start ? &s->start_re : NULL, 0);
    f->read_pos = f->sent_pos = 0;
    f->replaced = 0;
    lseek(f->fd, 0, SEEK_SET);
    s->st.truncations++;
}

typedef struct found {
    char path[PATH_MAX];
    struct stat st;
} found;

static int glob_all(tl__src *s, found **out)
{
    int n = 0, cap = 0;
    *out = NULL;
    for (int g = 0; g < s->cf->paths.n; g++) {
        glob_t gl;
        if (glob(s->cf->paths.v[g], 0, NULL, &gl)) continue;
        for (size_t i = 0; i < gl.gl_pathc && n < TL__MAX_ENTRIES; i++) {
            struct stat st;
            if (stat(gl.gl_pathv[i], &st) || !S_ISREG(st.st_mode)) continue;
            int dup = 0;
            for (int k = 0; k < n && !dup; k++)
                dup = (*out)[k].st.st_dev == st.st_dev && (*out)[k].st.st_ino == st.st_ino;
            if (dup) continue;
            if (n == cap) *out = ut_realloc(*out, (size_t)(cap = cap ? cap * 2 : 16) * sizeof **out);
            snprintf((*out)[n].path, PATH_MAX, "%s", gl.gl_pathv[i]);
            (*out)[n++].st = st;
        }
        globfree(&gl);
    }
    return n;
}

static tl__file *open_by_ino(tl__src *s, const struct stat *st)
{
    for (int i = 0; i < s->nfiles; i++)
        if (s->files[i]->e->dev == (uint64_t)st->st_dev && s->files[i]->e->ino == (uint64_t)st->st_ino)
            return s->files[i];
    return NULL;
}

static tl__entry *entry_by_ino(tl__src *s, const struct stat *st)
{
    for (int i = 0; i < s->nent; i++) {
        tl__entry *en = s->ent[i];
        if (!(en->flags & TL__ORPHAN) && en->dev == (uint64_t)st->st_dev &&
            en->ino == (uint64_t)st->st_ino)
            return en;
    }
    return NULL;
}

static int in_found(const found *fs, int n, const tl__entry *en)
{
    for (int i = 0; i < n; i++)
        if ((uint64_t)fs[i].st.st_dev == en->dev && (uint64_t)fs[i].st.st_ino == en->ino) return 1;
    return 0;
}

static int deferred_long(tl__src *s, const struct stat *st, int64_t now, int64_t wait)
{
    for (int i = 0; i < s->ndefer; i++)
        if (s->defer[i].dev == (uint64_t)st->st_dev && s->defer[i].ino == (uint64_t)st->st_ino)
            return now - s->defer[i].since_ms >= wait;
    if (s->ndefer < 64) s->defer[s->ndefer++] = (tl__defer){st->st_dev, st->st_ino, now};
    return 0;
}

static void set_entry(tl__entry *en, const found *f, int gz, int64_t now)
{
    en->dev = (uint64_t)f->st.st_dev;
    en->ino = (uint64_t)f->st.st_ino;
    en->flags = gz ? TL__GZ : 0;
    en->seen_ms = now;
    snprintf(en->path, sizeof en->path, "%s", f->path);
}

/* A file with no entry of its inode: adopt, wait, or start at 0.  Returns
 * the entry to open, or NULL (wait). */
static tl__entry *place_new(tl__src *s, const found *fs, int nfs, const found *f, int fd,
                            gzFile gz, int64_t now)
{
    for (int i = 0; i < s->nfiles; i++)
        if (tl__same_start(fd, gz, s->files[i]->e) &&
            (gz || !deferred_long(s, &f->st, now, s->cf->rotate_wait_ms)))
            return NULL;
    for (int i = 0; i < s->nent; i++) {
        tl__entry *en = s->ent[i];
        int gone = (en->flags & TL__ORPHAN) || !in_found(fs, nfs, en);
        if (!gone || !tl__same_start(fd, gz, en)) continue;
        int done = (en->flags & TL__DONE) && (en->flags & TL__GZ);
        lg_info("tail", "source %s: %s holds the content of %s (offset %llu): resuming there",
                s->cf->name, f->path, en->path, (unsigned long long)en->offset);
        set_entry(en, f, gz != NULL, now);
        if (done) en->flags |= TL__DONE;
        return en;
    }
    ut_error e;
    tl__entry *en = tl__entry_add(s, &e);
    if (!en) {
        lg_warn("tail", "%s", e.msg);
        return NULL;
    }
    set_entry(en, f, gz != NULL, now);
    return en;
}

static void consider(tl__src *s, const found *fs, int nfs, const found *f, int64_t now)
{
    tl__file *of = open_by_ino(s, &f->st);
    if (of) {
        of->away = 0;
        of->e->seen_ms = now;
        if (strcmp(of->e->path, f->path)) snprintf(of->e->path, PATH_MAX, "%s", f->path);
        of->renamed = strcmp(of->opened_at, f->path) != 0;
        return;
    }
    if (s->nfiles >= TL__MAX_OPEN) return;
    int gzf = is_gz(f->path);
    tl__entry *en = entry_by_ino(s, &f->st);
    if (en && (en->flags & TL__DONE)) {
        en->seen_ms = now;
        return;
    }
    int fd = open(f->path, O_RDONLY | O_CLOEXEC);
    if (fd < 0) return;
    int d = gzf ? dup(fd) : -1;
    gzFile gz = d >= 0 ? gzdopen(d, "rb") : NULL;
    if (gzf && !gz && d >= 0) close(d);
    if (en && (en->fp_len == 0 || tl__same_start(fd, gz, en)) &&
        (gzf || (uint64_t)f->st.st_size >= en->offset)) {
        en->seen_ms = now;
        snprintf(en->path, sizeof en->path, "%s", f->path);
    } else if (en) {
        lg_info("tail", "source %s: %s is not the file of its inode any more (inode reused, or "
                "truncated while not followed): read from 0", s->cf->name, f->path);
        en->flags |= TL__ORPHAN;
        s->st.truncations++;
        en = place_new(s, fs, nfs, f, fd, gz, now);
    } else {
        en = place_new(s, fs, nfs, f, fd, gz, now);
    }
    if (en && !en->fp_len) {
        uint32_t got;
        uint64_t fp;
        if (!tl__fingerprint(fd, gz, TL__FP_BYTES, &fp, &got)) en->fp = fp, en->fp_len = got;
    }
    if (gz) gzclose(gz);
    if (!en || (en->flags & TL__DONE)) {
        close(fd);
        return;
    }
    tl__open(s, en, fd, gzf);
}

/* Before anything is placed: an entry whose inode now holds other content
 * (reused for another file) is an orphan, so that the file that holds its
 * content (a .gz, a copy) can take it over in this same scan. */
static void mark_reused(tl__src *s, const found *f)
{
    tl__entry *en = entry_by_ino(s, &f->st);
    if (!en || open_by_ino(s, &f->st) || (en->flags & TL__DONE) || !en->fp_len) return;
    int gzf = is_gz(f->path);
    int fd = open(f->path, O_RDONLY | O_CLOEXEC);
    if (fd < 0) return;
    int d = gzf ? dup(fd) : -1;
    gzFile gz = d >= 0 ? gzdopen(d, "rb") : NULL;
    if (gzf && !gz && d >= 0) close(d);
    if (!tl__same_start(fd, gz, en) || (!gzf && (uint64_t)f->st.st_size < en->offset)) {
        lg_info("tail", "source %s: %s is not the file of its inode any more (inode reused, or "
                "truncated while not followed): read from 0", s->cf->name, f->path);
        en->flags |= TL__ORPHAN;
        s->st.truncations++;
    }
    if (gz) gzclose(gz);
    close(fd);
}

void tl__scan(tl__src *s, int64_t now_ms)
{
    found *fs;
    int n = glob_all(s, &fs);
    for (int i = 0; i < n; i++) mark_reused(s, &fs[i]);
    for (int i = 0; i < s->nfiles; i++) s->files[i]->away = 1;
    for (int i = 0; i < n; i++) consider(s, fs, n, &fs[i], now_ms);
    for (int i = 0; i < s->nfiles; i++) {
        tl__file *f = s->files[i];
        struct stat st;
        if (!fstat(f->fd, &st) && st.st_nlink == 0) f->away = 1;
        if (!f->gz && f->e->fp_len && !tl__same_start(f->fd, NULL, f->e)) f->replaced = 1;
    }
    free(fs);
    tl__entries_prune(s, now_ms);
    s->last_scan_ms = now_ms;
}
