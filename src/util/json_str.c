/* JSON string output (escaping) shared by the CLI and the server. */
#include "util/util.h"

#include <string.h>

static const char hexd[] = "0123456789abcdef";

size_t ut_utf8_len(const uint8_t *s, size_t n)
{
    uint8_t c = s[0];
    size_t len;
    uint32_t cp;
    if (c < 0x80) return 1;
    if (c >= 0xc2 && c <= 0xdf) len = 2, cp = c & 0x1f;
    else if (c >= 0xe0 && c <= 0xef) len = 3, cp = c & 0x0f;
    else if (c >= 0xf0 && c <= 0xf4) len = 4, cp = c & 0x07;
    else return 0;
    if (len > n) return 0;
    for (size_t i = 1; i < len; i++) {
        if ((s[i] & 0xc0) != 0x80) return 0;
        cp = cp << 6 | (s[i] & 0x3f);
    }
    if ((len == 3 && (cp < 0x800 || (cp >= 0xd800 && cp <= 0xdfff))) ||
        (len == 4 && (cp < 0x10000 || cp > 0x10ffff)))
        return 0;
    return len;
}

void ut_json_str(ut_buf *b, const void *str, size_t n)
{
    const uint8_t *s = str;
    if (ut_buf_reserve(b, n + 2)) return; /* over an explicit max: `over` is set */
    b->p[b->len++] = '"';
    size_t i = 0;
    while (i < n) {
        /* fast path: a run of plain ASCII */
        size_t j = i;
        while (j < n && s[j] >= 0x20 && s[j] < 0x80 && s[j] != '"' && s[j] != '\\') j++;
        if (j > i) {
            ut_buf_put(b, s + i, j - i);
            i = j;
            continue;
        }
        uint8_t c = s[i];
        char esc[8];
        if (c == '"' || c == '\\') {
            esc[0] = '\\', esc[1] = (char)c;
            ut_buf_put(b, esc, 2);
            i++;
        } else if (c < 0x20) {
            const char *e = c == '\n' ? "\\n" : c == '\t' ? "\\t" : c == '\r' ? "\\r"
                          : c == '\b' ? "\\b" : c == '\f' ? "\\f" : NULL;
            if (e) {
                ut_buf_put(b, e, 2);
            } else {
                memcpy(esc, "\\u00", 4);
                esc[4] = hexd[c >> 4], esc[5] = hexd[c & 15];
                ut_buf_put(b, esc, 6);
            }
            i++;
        } else {
            size_t l = ut_utf8_len(s + i, n - i);
            if (l) {
                ut_buf_put(b, s + i, l);
                i += l;
            } else {
                memcpy(esc, "\\u00", 4);
                esc[4] = hexd[c >> 4], esc[5] = hexd[c & 15];
                ut_buf_put(b, esc, 6);
                i++;
            }
        }
    }
    ut_buf_putc(b, '"');
}
