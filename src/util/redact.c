/* Cutting a secret's value out of a message (jobs, collectors). */
#include "util/util.h"

#include <string.h>

/* The whole occurrences of v in s. */
static void cut_whole(char *s, size_t cap, const char *v, size_t vl, const char *repl, size_t rl)
{
    char *p, *from = s;
    while ((p = strstr(from, v))) {
        size_t tail = strlen(p + vl);
        if ((size_t)(p - s) + rl + tail + 1 > cap) { /* no room: blank it */
            memset(p, '*', vl);
            from = p + vl;
            continue;
        }
        memmove(p + rl, p + vl, tail + 1);
        memcpy(p, repl, rl);
        from = p + rl;
    }
}

/* A text cut from a longer one (an output tail, a body excerpt) can start
 * with the end of a secret and end with its start: those pieces too (4
 * bytes or more), blanked when the replacement does not fit. */
static void cut_edges(char *s, size_t cap, const char *v, size_t vl, const char *repl, size_t rl)
{
    size_t sl = strlen(s);
    for (size_t k = vl - 1; k >= 4 && k < vl; k--) /* s starts with v's last k bytes */
        if (k <= sl && !memcmp(s, v + vl - k, k)) {
            if (rl + sl - k + 1 <= cap) {
                memmove(s + rl, s + k, sl - k + 1);
                memcpy(s, repl, rl);
                sl = sl - k + rl;
            } else {
                memset(s, '*', k);
            }
            break;
        }
    for (size_t k = vl - 1; k >= 4 && k < vl; k--) /* s ends with v's first k bytes */
        if (k <= sl && !memcmp(s + sl - k, v, k)) {
            if (sl - k + rl + 1 <= cap) memcpy(s + sl - k, repl, rl + 1);
            else memset(s + sl - k, '*', k);
            break;
        }
}

void ut_redact(char *s, size_t cap, const char *secret, const char *repl)
{
    size_t vl = secret ? strlen(secret) : 0, rl = strlen(repl);
    if (!vl || !s || !cap) return;
    cut_whole(s, cap, secret, vl, repl, rl);
    if (vl > 4) cut_edges(s, cap, secret, vl, repl, rl);
}
