/* Constant-time token comparison. */
#include "util/util.h"

#include <string.h>

int ut_token_in(const char *const *list, int n, const char *tok, size_t len)
{
    int ok = 0;
    for (int i = 0; i < n; i++) {
        const char *t = list[i];
        size_t m = strlen(t);
        unsigned diff = (unsigned)(m ^ len);
        for (size_t k = 0; k < m; k++) diff |= (unsigned)(t[k] ^ (k < len ? tok[k] : 0));
        ok |= diff == 0;
    }
    return ok;
}
