/* File-system helpers. */
#include "util/util.h"

#include <errno.h>
#include <stdio.h>
#include <string.h>
#include <sys/stat.h>

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
