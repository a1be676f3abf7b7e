/* libFuzzer target: the AWS shared credentials file parser
 * (st__creds_parse) on arbitrary bytes.  The first byte picks the profile.
 * Must never crash, leak or overread; a parsed profile has both keys,
 * non-empty, without control characters (they end up in HTTP headers). */
#include "store/st_int.h"

#include <stdint.h>
#include <stdlib.h>
#include <string.h>

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

static void clean(const char *s, int may_be_null)
{
    if (!s) {
        if (!may_be_null) abort();
        return;
    }
    if (!s[0]) abort();
    for (const unsigned char *p = (const unsigned char *)s; *p; p++)
        if (*p < 0x20 || *p == 0x7f) abort();
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    static const char *profiles[] = {"default", "prod", "a b", "profile", ""};
    if (size < 1 || size > ST_CREDS_FILE_MAX) return 0;
    const char *profile = profiles[data[0] % 5];
    char *buf = malloc(size - 1 ? size - 1 : 1); /* exact size: overreads are caught */
    memcpy(buf, data + 1, size - 1);
    st_creds c;
    memset(&c, 0, sizeof c);
    char err[256];
    err[0] = 0;
    int rc = st__creds_parse(buf, size - 1, profile, &c, err, sizeof err);
    if (rc == 1) {
        clean(c.access_key, 0);
        clean(c.secret_key, 0);
        clean(c.token, 1);
    } else if (c.access_key || c.secret_key || c.token) {
        abort(); /* nothing is handed out unless the profile is complete */
    }
    if (rc == -1 && !err[0]) abort(); /* a failure always says why */
    if (rc < -1 || rc > 1) abort();
    st__creds_free(&c);
    free(buf);
    return 0;
}
