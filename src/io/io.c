/* Buffered, decompressing input: sources (fd, memory), gzip/zstd, window. */
#include "io/io_int.h"

#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

io_codec io_sniff_codec(const uint8_t *p, size_t n)
{
    if (n >= 2 && p[0] == 0x1f && p[1] == 0x8b) return IO_GZIP;
    if (n >= 4 && p[0] == 0x28 && p[1] == 0xb5 && p[2] == 0x2f && p[3] == 0xfd) return IO_ZSTD;
    return IO_PLAIN;
}

size_t io_strip_codec_ext(const char *path)
{
    size_t n = strlen(path);
    static const char *ext[] = {".gz", ".zst", ".zstd", ".gzip"};
    for (size_t i = 0; i < sizeof ext / sizeof ext[0]; i++) {
        size_t e = strlen(ext[i]);
        if (n > e && !strcmp(path + n - e, ext[i])) return n - e;
    }
    return n;
}

/* Copy all of fd into an unlinked temp file (capped); return its fd. */
static int spool(io_reader *r, int fd, char *err, size_t errlen)
{
    const char *dir = getenv("TMPDIR");
    char path[4096];
    snprintf(path, sizeof path, "%s/sluice-spool-XXXXXX", dir && *dir ? dir : "/tmp");
    int out = mkstemp(path);
    if (out < 0) return ut_err(err, errlen, "%s: cannot create spool file %s: %s", r->name, path,
                               strerror(errno));
    unlink(path);
    uint8_t *buf = ut_malloc(IO_BLOCK);
    int64_t total = 0;
    for (;;) {
        ssize_t got = read(fd, buf, IO_BLOCK);
        if (got < 0 && errno == EINTR) continue;
        if (got < 0) {
            ut_err(err, errlen, "%s: read: %s", r->name, strerror(errno));
            goto fail;
        }
        if (got == 0) break;
        total += got;
        if (total > IO_SPOOL_MAX) {
            ut_err(err, errlen, "%s: input over the %lld-byte spool cap", r->name,
                   (long long)IO_SPOOL_MAX);
            goto fail;
        }
        for (ssize_t off = 0; off < got;) {
            ssize_t w = write(out, buf + off, (size_t)(got - off));
            if (w < 0 && errno == EINTR) continue;
            if (w < 0) {
                ut_err(err, errlen, "%s: writing spool file: %s", r->name, strerror(errno));
                goto fail;
            }
            off += w;
        }
    }
    free(buf);
    if (lseek(out, 0, SEEK_SET) != 0) {
        close(out);
        return ut_err(err, errlen, "%s: spool seek: %s", r->name, strerror(errno));
    }
    return out;
fail:
    free(buf);
    close(out);
    return -1;
}

static io_reader *alloc_reader(const char *name, size_t max_window)
{
    io_reader *r = ut_calloc(1, sizeof *r);
    r->name = ut_strdup(name);
    r->fd = -1;
    r->max_window = max_window ? max_window : IO_WINDOW_DEFAULT;
    if (r->max_window < 4096) r->max_window = 4096;
    r->block = IO_BLOCK;
    return r;
}

io_reader *io_open(const char *path, int flags, size_t max_window, char *err, size_t errlen)
{
    int is_stdin = !strcmp(path, "-");
    io_reader *r = alloc_reader(is_stdin ? "stdin" : path, max_window);
    int fd = is_stdin ? 0 : open(path, O_RDONLY | O_CLOEXEC);
    if (fd < 0) {
        ut_err(err, errlen, "%s: %s", path, strerror(errno));
        goto fail;
    }
    r->fd = fd;
    r->own_fd = !is_stdin;
    struct stat st;
    if (fstat(fd, &st) == 0 && S_ISDIR(st.st_mode)) {
        ut_err(err, errlen, "%s: is a directory", r->name);
        goto fail;
    }
    int seekable = fstat(fd, &st) == 0 && S_ISREG(st.st_mode) && lseek(fd, 0, SEEK_CUR) == 0;
    if ((flags & IO_REWINDABLE) && !seekable) {
        int s = spool(r, fd, err, errlen);
        if (s < 0) goto fail;
        if (r->own_fd) close(r->fd);
        r->fd = s;
        r->own_fd = 1;
        seekable = 1;
    }
    r->rewindable = seekable;
    r->raw = r->raw_buf = ut_malloc(IO_BLOCK);
    return r;
fail:
    io_close(r);
    return NULL;
}

io_reader *io_open_mem(const void *buf, size_t len, const char *name, size_t max_window)
{
    io_reader *r = alloc_reader(name, max_window);
    r->mem = buf;
    r->mem_len = len;
    r->rewindable = 1;
    r->block = len < 4096 ? 4096 : len < IO_BLOCK ? len + 1 : IO_BLOCK;
    return r;
}

static void codec_free(io_reader *r)
{
    if (r->z_init) inflateEnd(&r->z);
    r->z_init = 0;
    if (r->zs) ZSTD_freeDStream(r->zs);
    r->zs = NULL;
}

void io_close(io_reader *r)
{
    if (!r) return;
    codec_free(r);
    if (r->own_fd && r->fd >= 0) close(r->fd);
    free(r->raw_buf);
    free(r->win);
    free(r->name);
    free(r);
}

const char *io_name(const io_reader *r) { return r->name; }
io_codec io_get_codec(const io_reader *r) { return r->codec; }
int64_t io_bytes_in(const io_reader *r) { return r->src_total - (int64_t)(r->raw_len - r->raw_pos); }
int64_t io_bytes_out(const io_reader *r) { return r->bytes_out; }

void io_window(const io_reader *r, const uint8_t **p, size_t *n)
{
    static const uint8_t empty[1];
    *p = r->win ? r->win + r->win_start : empty;
    *n = r->win_end - r->win_start;
}

void io_consume(io_reader *r, size_t n)
{
    r->win_start += n;
    if (r->win_start > r->win_end) r->win_start = r->win_end;
    if (r->scan > n) r->scan -= n; else r->scan = 0;
}

/* Read raw source bytes into dst[0..cap).  Returns bytes, 0 at EOF, -1. */
static ssize_t src_read(io_reader *r, uint8_t *dst, size_t cap, char *err, size_t errlen)
{
    if (r->mem || r->fd < 0) return 0;
    for (;;) {
        ssize_t got = read(r->fd, dst, cap);
        if (got < 0 && errno == EINTR) continue;
        if (got < 0) return ut_err(err, errlen, "%s: read: %s", r->name, strerror(errno));
        r->src_total += got;
        return got;
    }
}

/* Refill the raw buffer (only when it is empty).  1 = data, 0 = EOF, -1. */
static int raw_fill(io_reader *r, char *err, size_t errlen)
{
    if (r->raw_pos < r->raw_len) return 1;
    if (r->src_eof) return 0;
    if (r->mem) { /* zero-copy: the memory is the raw buffer */
        r->raw = r->mem;
        r->raw_len = r->mem_len;
        r->raw_pos = 0;
        r->src_total = (int64_t)r->mem_len;
        r->src_eof = 1;
        return r->mem_len > 0;
    }
    ssize_t got = src_read(r, r->raw_buf, IO_BLOCK, err, errlen);
    if (got < 0) return -1;
    r->raw_pos = 0;
    r->raw_len = (size_t)got;
    if (got == 0) r->src_eof = 1;
    return got > 0;
}

static int start_codec(io_reader *r, char *err, size_t errlen)
{
    int rc = raw_fill(r, err, errlen);
    if (rc < 0) return -1;
    /* a short first read (pipe) may hold fewer bytes than a magic: top up */
    while (rc > 0 && r->raw_len < 4 && !r->src_eof) {
        ssize_t got = src_read(r, r->raw_buf + r->raw_len, IO_BLOCK - r->raw_len, err, errlen);
        if (got < 0) return -1;
        if (got == 0) r->src_eof = 1;
        r->raw_len += (size_t)got;
    }
    r->codec = io_sniff_codec(r->raw, r->raw_len);
    if (r->codec == IO_GZIP) {
        memset(&r->z, 0, sizeof r->z);
        if (inflateInit2(&r->z, 15 + 32) != Z_OK)
            return ut_err(err, errlen, "%s: cannot initialise zlib", r->name);
        r->z_init = 1;
        r->z_in_stream = 0;
    } else if (r->codec == IO_ZSTD) {
        r->zs = ZSTD_createDStream();
        if (!r->zs || ZSTD_isError(ZSTD_initDStream(r->zs)))
            return ut_err(err, errlen, "%s: cannot initialise zstd", r->name);
        r->zs_ret = 0;
    }
    r->started = 1;
    return 0;
}

/* Decompress gzip into out[0..room); returns bytes produced or -1. */
static ssize_t gz_more(io_reader *r, uint8_t *out, size_t room, char *err, size_t errlen)
{
    size_t produced = 0;
    while (produced < room) {
        if (r->raw_pos == r->raw_len) {
            if (produced) break;
            int rc = raw_fill(r, err, errlen);
            if (rc < 0) return -1;
            if (rc == 0) {
                if (r->z_in_stream)
                    return ut_err(err, errlen, "%s: gzip data truncated at byte %lld", r->name,
                                  (long long)io_bytes_in(r));
                break;
            }
        }
        if (!r->z_in_stream) {
            if (r->z_members && inflateReset(&r->z) != Z_OK)
                return ut_err(err, errlen, "%s: zlib reset failed", r->name);
            r->z_in_stream = 1;
        }
        r->z.next_in = (Bytef *)(uintptr_t)(r->raw + r->raw_pos); /* zlib does not write it */
        r->z.avail_in = (uInt)(r->raw_len - r->raw_pos);
        r->z.next_out = out + produced;
        r->z.avail_out = (uInt)(room - produced);
        int zr = inflate(&r->z, Z_NO_FLUSH);
        size_t used = (r->raw_len - r->raw_pos) - r->z.avail_in;
        size_t made = (room - produced) - r->z.avail_out;
        r->raw_pos += used;
        produced += made;
        if (zr == Z_STREAM_END) {
            r->z_in_stream = 0;
            r->z_members++;
        } else if (zr != Z_OK && !(zr == Z_BUF_ERROR && !used && !made)) {
            return ut_err(err, errlen, "%s: gzip data corrupt at byte %lld%s%s", r->name,
                          (long long)io_bytes_in(r), r->z.msg ? ": " : "",
                          r->z.msg ? r->z.msg : "");
        }
    }
    return (ssize_t)produced;
}

static ssize_t zstd_more(io_reader *r, uint8_t *out, size_t room, char *err, size_t errlen)
{
    ZSTD_outBuffer ob = {out, room, 0};
    while (ob.pos < ob.size) {
        if (r->raw_pos == r->raw_len) {
            /* the decoder may still hold output for a finished input */
            if (r->zs_ret != 0 && ob.pos == 0) {
                ZSTD_inBuffer ib0 = {r->raw, 0, 0};
                size_t ret = ZSTD_decompressStream(r->zs, &ob, &ib0);
                if (ZSTD_isError(ret))
                    return ut_err(err, errlen, "%s: zstd data corrupt at byte %lld: %s", r->name,
                                  (long long)io_bytes_in(r), ZSTD_getErrorName(ret));
                r->zs_ret = ret;
                if (ob.pos) continue;
            }
            if (ob.pos) break;
            int rc = raw_fill(r, err, errlen);
            if (rc < 0) return -1;
            if (rc == 0) {
                if (r->zs_ret != 0)
                    return ut_err(err, errlen, "%s: zstd data truncated at byte %lld", r->name,
                                  (long long)io_bytes_in(r));
                break;
            }
        }
        ZSTD_inBuffer ib = {r->raw + r->raw_pos, r->raw_len - r->raw_pos, 0};
        size_t ret = ZSTD_decompressStream(r->zs, &ob, &ib);
        r->raw_pos += ib.pos;
        if (ZSTD_isError(ret))
            return ut_err(err, errlen, "%s: zstd data corrupt at byte %lld: %s", r->name,
                          (long long)io_bytes_in(r), ZSTD_getErrorName(ret));
        r->zs_ret = ret;
    }
    return (ssize_t)ob.pos;
}

static ssize_t plain_more(io_reader *r, uint8_t *out, size_t room, char *err, size_t errlen)
{
    if (r->raw_pos < r->raw_len) { /* bytes read while sniffing */
        size_t n = r->raw_len - r->raw_pos;
        if (n > room) n = room;
        memcpy(out, r->raw + r->raw_pos, n);
        r->raw_pos += n;
        return (ssize_t)n;
    }
    if (r->src_eof) return 0;
    ssize_t got = src_read(r, out, room, err, errlen);
    if (got == 0) r->src_eof = 1;
    return got;
}

int io_more(io_reader *r, char *err, size_t errlen)
{
    if (!r->started && start_codec(r, err, errlen)) return -1;
    size_t have = r->win_end - r->win_start;
    if (r->win_start) {
        if (have) memmove(r->win, r->win + r->win_start, have);
        r->win_start = 0;
        r->win_end = have;
    }
    if (have >= r->max_window)
        return ut_err(err, errlen, "%s: record longer than the %zu-byte cap", r->name,
                      r->max_window);
    if (r->win_cap - r->win_end < r->block) {
        size_t cap = r->win_cap ? r->win_cap : r->block;
        while (cap - r->win_end < r->block) cap *= 2;
        r->win = ut_realloc(r->win, cap);
        r->win_cap = cap;
    }
    uint8_t *out = r->win + r->win_end;
    size_t room = r->win_cap - r->win_end;
    ssize_t got;
    for (;;) {
        if (r->codec == IO_GZIP) got = gz_more(r, out, room, err, errlen);
        else if (r->codec == IO_ZSTD) got = zstd_more(r, out, room, err, errlen);
        else got = plain_more(r, out, room, err, errlen);
        if (got != 0 || r->src_eof) break;
    }
    if (got < 0) return -1;
    r->win_end += (size_t)got;
    r->bytes_out += got;
    return got > 0;
}

int io_rewind(io_reader *r, char *err, size_t errlen)
{
    if (!r->rewindable) return ut_err(err, errlen, "%s: input cannot be read twice", r->name);
    if (r->mem) {
        r->raw = NULL;
    } else if (lseek(r->fd, 0, SEEK_SET) != 0) {
        return ut_err(err, errlen, "%s: seek: %s", r->name, strerror(errno));
    }
    codec_free(r);
    r->started = 0;
    r->codec = IO_PLAIN;
    r->raw_pos = r->raw_len = 0;
    r->src_eof = 0;
    r->src_total = 0;
    r->z_members = 0;
    r->win_start = r->win_end = 0;
    r->bytes_out = 0;
    r->scan = 0;
    r->pending = 0;
    r->lineno = 0;
    return 0;
}
