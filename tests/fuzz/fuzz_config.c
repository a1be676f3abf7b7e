/* libFuzzer target: the config loader (libyaml events walked against the
 * tables) and the value parsers on arbitrary bytes.  Must never crash, leak
 * or overread; a loaded config must be internally consistent. */
#include "config/cf_int.h"

#include <stdint.h>
#include <stdlib.h>
#include <string.h>

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    char err[512];
    cf_config *c = cf_load_mem(data, size, "fuzz.yaml", err, sizeof err);
    if (!c) {
        if (strncmp(err, "fuzz.yaml:", 10)) abort(); /* every message names the file */
    } else {
        if (c->nstreams < 0 || c->nstreams > CF_MAX_STREAMS) abort();
        for (int i = 0; i < c->nstreams; i++) {
            const cf_stream *s = &c->streams[i];
            if (cf_stream_find(c, s->name) != s) abort();
            if (i && strcmp(c->streams[i - 1].name, s->name) >= 0) abort();
            if (s->tokens.n > CF_MAX_TOKENS) abort();
            for (int t = 0; t < s->tokens.n; t++)
                if (!cf_token_ok(s, s->tokens.v[t], strlen(s->tokens.v[t]))) abort();
            jr_opts o;
            cf_stream_journal_opts(c, s, &o);
        }
        if (c->limits.max_record_bytes > c->limits.max_body_bytes) abort();
        cf_destroy(c);
    }
    /* the scalar parsers on the raw bytes */
    size_t n = size > 64 ? 64 : size;
    const char *s = (const char *)data;
    uint64_t u;
    int64_t i64;
    bool b;
    cf_fsync f;
    cf_hostport h;
    char msg[128];
    (void)cf__parse_size(s, n, &u);
    (void)cf__parse_duration(s, n, &i64);
    (void)cf__parse_int(s, n, &i64);
    (void)cf__parse_bool(s, n, &b);
    (void)cf__parse_fsync(s, n, &f);
    (void)cf__parse_hostport(s, n, &h);
    for (int k = 0; k < UT_NAME_KIND_COUNT; k++)
        if (ut_name_check((ut_namekind)k, s, n, msg, sizeof msg) == 0 && !n) abort();
    return 0;
}
