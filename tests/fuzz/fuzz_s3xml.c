/* libFuzzer target: the S3 XML reader (src/store/xml.c) on arbitrary bytes:
 * ListObjectsV2 pages, single values (UploadId) and <Error> documents.  Must
 * never crash, leak or overread; what it returns must keep its contracts
 * (keys 1..ST_KEY_MAX bytes without NUL, a token when truncated, outputs
 * NUL-terminated inside their buffers). */
#include "store/st_int.h"

#include <stdint.h>
#include <stdlib.h>
#include <string.h>

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

static void check_list(const char *xml, size_t n)
{
    st_xml_list l;
    memset(&l, 0, sizeof l);
    char err[256];
    err[0] = 0;
    int rc = st__xml_list_page(xml, n, &l, err, sizeof err);
    if (rc == 0) {
        for (size_t i = 0; i < l.n; i++) {
            size_t kn = strlen(l.v[i].key);
            if (kn == 0 || kn > ST_KEY_MAX) abort();
        }
        if (l.truncated && (!l.next_token || !l.next_token[0])) abort();
    } else if (rc != -1 || !err[0] || strlen(err) >= sizeof err) {
        abort(); /* a failure always says why */
    }
    /* a second page appends to the first */
    size_t before = l.n;
    if (rc == 0 && st__xml_list_page(xml, n, &l, err, sizeof err) == 0 && l.n != 2 * before)
        abort();
    st__xml_list_free(&l);
}

static void check_values(const char *xml, size_t n)
{
    char out[8], code[16], msg[32];
    memset(out, 'x', sizeof out);
    int found = st__xml_text(xml, n, "UploadId", out, sizeof out);
    if (!memchr(out, 0, sizeof out)) abort();
    if (!found && out[0]) abort();
    if (st__xml_error(xml, n, code, sizeof code, msg, sizeof msg)) {
        if (!memchr(code, 0, sizeof code) || !memchr(msg, 0, sizeof msg)) abort();
    } else if (code[0] || msg[0]) {
        abort();
    }
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    if (size > ST_XML_MAX) return 0;
    /* exact-size heap copy, not NUL-terminated, so ASan catches any overread */
    char *buf = malloc(size ? size : 1);
    memcpy(buf, data, size);
    check_list(buf, size);
    check_values(buf, size);
    free(buf);
    return 0;
}
