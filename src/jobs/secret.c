/* jobs: secrets by name.  `{{secret.NAME}}` is the first line of the file
 * <secrets_dir>/NAME, else the environment variable SLUICE_SECRET_NAME
 * (NAME upper-cased, '-' and '.' as '_').  Values are held only while a
 * task runs, never logged, never stored in the run history, and cut from
 * every message a run reports (jb__redact). */
#include "jobs/jb_int.h"

#include <ctype.h>
#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

/* Secret names: [A-Za-z0-9_.-], 1..64, not starting with '.'. */
static int name_ok(const char *n)
{
    size_t i = 0;
    if (!n[0] || n[0] == '.') return 0;
    for (; n[i]; i++)
        if (!(isalnum((unsigned char)n[i]) || n[i] == '_' || n[i] == '-' || n[i] == '.'))
            return 0;
    return i <= 64;
}

/* First line of path into out (cap JB_MAX_SECRET_BYTES).  1 read, 0 no
 * such file, -1 error (message without the value). */
static int read_file(const char *path, const char *name, char *out, char *err, size_t errlen)
{
    int fd = open(path, O_RDONLY | O_CLOEXEC);
    if (fd < 0) {
        if (errno == ENOENT) return 0;
        return ut_err(err, errlen, "secret '%s': cannot open %s: %s", name, path, strerror(errno));
    }
    ssize_t n = read(fd, out, JB_MAX_SECRET_BYTES - 1);
    int e = errno;
    close(fd);
    if (n < 0) return ut_err(err, errlen, "secret '%s': cannot read %s: %s", name, path, strerror(e));
    out[n] = 0;
    out[strcspn(out, "\r\n")] = 0;
    if ((size_t)n == JB_MAX_SECRET_BYTES - 1 && !memchr(out, 0, (size_t)n))
        return ut_err(err, errlen, "secret '%s': %s is longer than %d bytes", name, path,
                      JB_MAX_SECRET_BYTES - 1);
    return 1;
}

int jb__secret(const cf_config *cf, const char *name, char *out, char *err, size_t errlen)
{
    out[0] = 0;
    if (!name_ok(name))
        return ut_err(err, errlen, "secret names are 1-64 of [A-Za-z0-9_.-], got '%.64s'", name);
    if (cf->secrets_dir && cf->secrets_dir[0]) {
        char path[4200];
        snprintf(path, sizeof path, "%s/%s", cf->secrets_dir, name);
        int r = read_file(path, name, out, err, errlen);
        if (r) return r < 0 ? -1 : 0;
    }
    char var[96] = "SLUICE_SECRET_";
    size_t o = strlen(var);
    for (size_t i = 0; name[i] && o + 1 < sizeof var; i++)
        var[o++] = name[i] == '-' || name[i] == '.' ? '_' : (char)toupper((unsigned char)name[i]);
    var[o] = 0;
    const char *v = getenv(var);
    if (!v)
        return ut_err(err, errlen, "secret '%s' not found (no file %s/%s, no variable %s)", name,
                      cf->secrets_dir && cf->secrets_dir[0] ? cf->secrets_dir : "<secrets_dir>",
                      name, var);
    if (strlen(v) >= JB_MAX_SECRET_BYTES)
        return ut_err(err, errlen, "secret '%s': %s is longer than %d bytes", name, var,
                      JB_MAX_SECRET_BYTES - 1);
    snprintf(out, JB_MAX_SECRET_BYTES, "%s", v);
    return 0;
}

int jb_secret(const cf_config *cf, const char *name, char *out, char *err, size_t errlen)
{
    _Static_assert(JB_SECRET_MAX == JB_MAX_SECRET_BYTES, "one secret size");
    return jb__secret(cf, name, out, err, errlen);
}

void jb__redact_free(jb_redact *r)
{
    for (int i = 0; r && i < r->n; i++) {
        memset(r->v[i], 0, strlen(r->v[i]));
        free(r->v[i]);
    }
    if (r) r->n = 0;
}

void jb__redact(const jb_redact *r, char *s, size_t cap)
{
    for (int i = 0; r && i < r->n; i++) {
        char repl[96];
        snprintf(repl, sizeof repl, "[secret %s]", r->name[i]);
        ut_redact(s, cap, r->v[i], repl);
    }
}
