/* Zone files: IANA names -> TZif bytes (RFC 8536, versions 1 to 4) -> cr_zone.
 *
 * Pipeline: check the name (ut_name_check, UT_NAME_ZONE: no "..", no leading
 * '/'), answer "UTC" and "Etc/UTC" without a file, read the file (a regular
 * file of at most CR_MAX_TZIF_BYTES); then read the first header and check
 * its counts against the caps (leap-second "right/" zones are refused); a
 * version 1 file is read from its 32-bit block, a later one skips that block
 * and reads the second header, the 64-bit block and the footer (a POSIX TZ
 * rule between newlines, posix.c).  Every count is checked against the bytes
 * left before anything is read; times must ascend, type and abbreviation
 * indices be in range, offsets within RFC 8536's -89999 .. 93599 s.
 * Transitions outside years 1 .. 9999 are dropped: the type before the first
 * kept one becomes the initial type, and past the last kept one the footer is
 * never reached inside the range. */
#include "cron/cr_int.h"

#include <errno.h>
#include <fcntl.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#define LO_S (CR_MIN_US / CR__US - 2 * 86400)
#define HI_S (CR_MAX_US / CR__US + 2 * 86400)

typedef struct hdr {
    int version; /* 1 .. 4 */
    uint32_t isut, isstd, leap, time, type, chr;
} hdr;

typedef struct cur {
    const uint8_t *p;
    size_t n, i;
    const char *name;
    char *err;
    size_t errlen;
} cur;

__attribute__((format(printf, 2, 3))) static int bad(const cur *c, const char *fmt, ...)
{
    char msg[256];
    va_list ap;
    va_start(ap, fmt);
    vsnprintf(msg, sizeof msg, fmt, ap);
    va_end(ap);
    return ut_err(c->err, c->errlen, "time zone '%s': %s", c->name, msg);
}

static uint32_t be32(const uint8_t *p)
{
    return (uint32_t)p[0] << 24 | (uint32_t)p[1] << 16 | (uint32_t)p[2] << 8 | p[3];
}

static int64_t be64(const uint8_t *p)
{
    return (int64_t)((uint64_t)be32(p) << 32 | be32(p + 4));
}

static int header(cur *c, hdr *h)
{
    if (c->n - c->i < 44) return bad(c, "TZif file truncated in its header");
    const uint8_t *p = c->p + c->i;
    if (memcmp(p, "TZif", 4)) return bad(c, "not a TZif file");
    if (p[4] != 0 && (p[4] < '2' || p[4] > '4'))
        return bad(c, "TZif version byte 0x%02x is not supported (1 to 4)", p[4]);
    h->version = p[4] ? p[4] - '0' : 1;
    uint32_t *v[6] = {&h->isut, &h->isstd, &h->leap, &h->time, &h->type, &h->chr};
    for (int k = 0; k < 6; k++) *v[k] = be32(p + 20 + 4 * k);
    c->i += 44;
    if (h->leap) return bad(c, "has leap seconds (a right/ zone); use the zone without right/");
    if (h->type < 1 || h->type > CR__MAX_TYPES)
        return bad(c, "TZif type count %u is not 1 to %d", h->type, CR__MAX_TYPES);
    if (h->time > CR__MAX_TRANS)
        return bad(c, "TZif has %u transitions, over the cap of %d", h->time, CR__MAX_TRANS);
    if (h->chr < 1 || h->chr > CR__MAX_CHARS)
        return bad(c, "TZif abbreviation size %u is not 1 to %d", h->chr, CR__MAX_CHARS);
    if ((h->isstd && h->isstd != h->type) || (h->isut && h->isut != h->type))
        return bad(c, "TZif standard/UT indicator counts differ from the type count");
    return 0;
}

static size_t block_size(const hdr *h, size_t tsize)
{
    return h->time * tsize + h->time + h->type * 6 + h->chr + h->leap * (tsize + 4) + h->isstd +
           h->isut;
}

static int types(cur *c, const hdr *h, cr_zone *z)
{
    const uint8_t *p = c->p + c->i;
    z->ntypes = (int32_t)h->type;
    for (uint32_t k = 0; k < h->type; k++, p += 6) {
        int32_t off = (int32_t)be32(p);
        if (off < -89999 || off > 93599)
            return bad(c, "TZif type %u has offset %d s, outside -89999 to 93599", k, off);
        if (p[4] > 1) return bad(c, "TZif type %u has a DST flag of %u", k, p[4]);
        if (p[5] >= h->chr)
            return bad(c, "TZif type %u names abbreviation %u of %u", k, p[5], h->chr);
        z->types[k].off = off, z->types[k].isdst = p[4];
    }
    c->i += h->type * 6;
    return 0;
}

/* The data block after header h, times tsize (4 or 8) bytes wide. */
static int block(cur *c, const hdr *h, size_t tsize, cr_zone *z)
{
    if (c->n - c->i < block_size(h, tsize)) return bad(c, "TZif file truncated in its data");
    z->ntrans = (int32_t)h->time;
    z->trans = ut_malloc((h->time ? h->time : 1) * sizeof *z->trans);
    z->trans_type = ut_malloc(h->time ? h->time : 1);
    const uint8_t *p = c->p + c->i;
    for (uint32_t k = 0; k < h->time; k++, p += tsize) {
        z->trans[k] = tsize == 8 ? be64(p) : (int32_t)be32(p);
        if (k && z->trans[k] <= z->trans[k - 1])
            return bad(c, "TZif transition %u is not after the one before", k);
    }
    for (uint32_t k = 0; k < h->time; k++, p++) {
        if (*p >= h->type) return bad(c, "TZif transition %u has type %u of %u", k, *p, h->type);
        z->trans_type[k] = *p;
    }
    c->i += h->time * (tsize + 1);
    if (types(c, h, z)) return -1;
    c->i += h->chr + h->leap * (tsize + 4);
    for (uint32_t k = 0; k < h->isstd + h->isut; k++)
        if (c->p[c->i + k] > 1) return bad(c, "TZif indicator byte %u is not 0 or 1", k);
    c->i += h->isstd + h->isut;
    return 0;
}

/* "\n<POSIX TZ>\n" after a version 2+ block. */
static int footer(cur *c, cr_zone *z)
{
    if (c->i >= c->n || c->p[c->i] != '\n') return bad(c, "TZif footer missing");
    const uint8_t *s = c->p + c->i + 1;
    size_t left = c->n - c->i - 1, k = 0;
    while (k < left && k <= CR__MAX_FOOTER && s[k] != '\n') k++;
    if (k >= left || s[k] != '\n')
        return bad(c, "TZif footer not ended by a newline within %d bytes", CR__MAX_FOOTER);
    char msg[400];
    if (k && cr__posix_parse((const char *)s, k, &z->rule, msg, sizeof msg))
        return bad(c, "footer: %s", msg);
    z->has_rule = k > 0;
    c->i += k + 2; /* bytes after the footer are ignored (room for later versions) */
    return 0;
}

/* Drop transitions outside years 1 .. 9999 (see top). */
static void clip(cr_zone *z)
{
    int32_t a = 0, b = z->ntrans;
    while (a < b && z->trans[a] < LO_S) a++;
    while (b > a && z->trans[b - 1] > HI_S) b--;
    if (a > 0) z->init_type = z->trans_type[a - 1];
    if (b < z->ntrans) z->has_rule = 0;
    memmove(z->trans, z->trans + a, (size_t)(b - a) * sizeof *z->trans);
    memmove(z->trans_type, z->trans_type + a, (size_t)(b - a));
    z->ntrans = b - a;
}

cr_zone *cr_zone_from_tzif(const char *name, const uint8_t *data, size_t n, char *err,
                           size_t errlen)
{
    cr_zone *z = ut_calloc(1, sizeof *z);
    snprintf(z->name, sizeof z->name, "%s", name ? name : "");
    cur c = {data, n, 0, z->name, err, errlen};
    hdr h;
    if (n > CR_MAX_TZIF_BYTES) {
        bad(&c, "TZif file of %zu bytes is over the cap of %d", n, CR_MAX_TZIF_BYTES);
        goto fail;
    }
    if (header(&c, &h)) goto fail;
    if (h.version >= 2) {
        if (c.n - c.i < block_size(&h, 4)) {
            bad(&c, "TZif file truncated in its version 1 data");
            goto fail;
        }
        c.i += block_size(&h, 4);
        if (header(&c, &h) || block(&c, &h, 8, z) || footer(&c, z)) goto fail;
    } else if (block(&c, &h, 4, z)) {
        goto fail;
    }
    clip(z);
    return z;
fail:
    cr_zone_destroy(z);
    return NULL;
}

/* Read dir/name into a buffer of at most CR_MAX_TZIF_BYTES. */
static uint8_t *read_zone(const char *dir, const char *name, size_t *n, char *err, size_t errlen)
{
    char path[4096];
    struct stat st;
    if ((size_t)snprintf(path, sizeof path, "%s/%s", dir, name) >= sizeof path)
        return ut_err(err, errlen, "time zone '%s': path too long", name), NULL;
    int fd = open(path, O_RDONLY | O_CLOEXEC);
    if (fd < 0) {
        if (errno == ENOENT || errno == ENOTDIR)
            ut_err(err, errlen, "time zone '%s': no such zone in %s (is tzdata installed?)", name,
                   dir);
        else
            ut_err(err, errlen, "time zone '%s': %s: %s", name, path, strerror(errno));
        return NULL;
    }
    uint8_t *buf = NULL;
    if (fstat(fd, &st) || !S_ISREG(st.st_mode)) {
        ut_err(err, errlen, "time zone '%s': %s is not a zone file", name, path);
    } else if (st.st_size > CR_MAX_TZIF_BYTES) {
        ut_err(err, errlen, "time zone '%s': %s is over the cap of %d bytes", name, path,
               CR_MAX_TZIF_BYTES);
    } else {
        buf = ut_malloc((size_t)st.st_size + 1);
        ssize_t r;
        *n = 0;
        while (*n <= (size_t)st.st_size &&
               (r = read(fd, buf + *n, (size_t)st.st_size + 1 - *n)) != 0) {
            if (r < 0 && errno == EINTR) continue;
            if (r < 0 || *n + (size_t)r > (size_t)st.st_size) {
                ut_err(err, errlen, "time zone '%s': reading %s: %s", name, path,
                       r < 0 ? strerror(errno) : "the file grew");
                free(buf), buf = NULL;
                break;
            }
            *n += (size_t)r;
        }
    }
    close(fd);
    return buf;
}

cr_zone *cr_zone_load_dir(const char *dir, const char *name, char *err, size_t errlen)
{
    if (!name) return ut_err(err, errlen, "time zone: no name given"), NULL;
    if (ut_name_check(UT_NAME_ZONE, name, strnlen(name, UT_NAME_MAX + 1), err, errlen))
        return NULL;
    if (!strcmp(name, "UTC") || !strcmp(name, "Etc/UTC")) return cr__zone_utc(name);
    size_t n = 0;
    uint8_t *buf = read_zone(dir ? dir : CR_ZONEINFO_DIR, name, &n, err, errlen);
    if (!buf) return NULL;
    cr_zone *z = cr_zone_from_tzif(name, buf, n, err, errlen);
    free(buf);
    return z;
}

cr_zone *cr_zone_load(const char *name, char *err, size_t errlen)
{
    return cr_zone_load_dir(CR_ZONEINFO_DIR, name, err, errlen);
}

cr_zone *cr_zone_from_posix(const char *tz, char *err, size_t errlen)
{
    cr__posix p;
    if (!tz) return ut_err(err, errlen, "TZ rule: none given"), NULL;
    if (cr__posix_parse(tz, strnlen(tz, CR__MAX_FOOTER + 1), &p, err, errlen)) return NULL;
    cr_zone *z = cr__zone_utc(tz);
    z->types[0].off = p.std_off;
    z->rule = p;
    z->has_rule = 1;
    return z;
}
