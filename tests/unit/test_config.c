#include "t.h"
#include "config/cf_int.h"
#include "lake/lake.h"
#include "util/util.h"

#include <stdlib.h>

static char err[1024];

static cf_config *load(const char *text)
{
    err[0] = 0;
    return cf_load_mem(text, strlen(text), "sluice.yaml", err, sizeof err);
}

/* Load text expecting failure; returns the message. */
static const char *fails(const char *text)
{
    cf_config *c = load(text);
    if (c) {
        cf_destroy(c);
        return "(loaded)";
    }
    return err;
}

TEST(config_defaults)
{
    cf_config *c = cf_default();
    CHECK(c->file == NULL);
    CHECK_EQ_STR(c->data_dir, "./sluice-data");
    CHECK_EQ_STR(c->listen.host, "127.0.0.1");
    CHECK_EQ_INT(c->listen.port, 8080);
    CHECK(c->auto_create_streams);
    CHECK_EQ_INT(c->log_level, CF_LOG_INFO);
    CHECK_EQ_INT(c->http.max_connections, 1024);
    CHECK_EQ_INT(c->http.connection_timeout_ms, 30000);
    CHECK_EQ_INT(c->limits.max_body_bytes, 10000000);
    CHECK_EQ_INT(c->limits.max_record_bytes, 1 << 20);
    CHECK_EQ_INT(c->limits.max_depth, 64);
    CHECK_EQ_INT(c->limits.max_records_per_request, 100000);
    CHECK_EQ_INT(c->limits.min_free_disk, 1000000000);
    CHECK_EQ_INT(c->nstreams, 0);
    CHECK(cf_stream_find(c, "events") == NULL);
    cf_destroy(c);
    cf_destroy(NULL);

    cf_stream s;
    cf_stream_defaults(&s);
    CHECK_EQ_STR(s.name, "");
    CHECK_EQ_INT(s.tokens.n, 0);
    CHECK_EQ_INT(s.fsync.mode, JR_FSYNC_ALWAYS);
    CHECK_EQ_INT(s.segment_bytes, 64 << 20);
    CHECK_EQ_INT(s.retention_ms, 7LL * 86400 * 1000);
    CHECK_EQ_INT(s.retention_bytes, 0);
    CHECK_EQ_INT(s.max_bytes, 0);
    CHECK_EQ_INT(s.max_deliveries, 5);
    CHECK(cf_token_ok(&s, "anything", 8));
    CHECK(cf_token_ok(&s, NULL, 0));

    /* the defaults agree with the journal's own */
    jr_opts a, b;
    jr_opts_init(&a);
    cf_stream_journal_opts(NULL, &s, &b);
    CHECK(!memcmp(&a, &b, sizeof a));
    /* sink defaults */
    CHECK(s.sink.enabled);
    CHECK_EQ_STR(s.sink.table, "");
    CHECK_EQ_STR(s.sink.event_time_field, "event_time");
    CHECK_EQ_INT(s.sink.partition, CF_PART_DT_HR);
    CHECK_EQ_INT(s.sink.roll_age_ms, 60000);
    cf_stream_clear(&s);
}

TEST(config_empty_file_and_file_defaults)
{
    const char *empties[] = {"", "# only a comment\n", "---\n", "---\n...\n", "~\n"};
    for (size_t i = 0; i < sizeof empties / sizeof empties[0]; i++) {
        cf_config *c = load(empties[i]);
        CHECK_MSG(c, "'%s': %s", empties[i], err);
        CHECK_EQ_STR(c->file, "sluice.yaml");
        CHECK(!c->auto_create_streams); /* off in a file unless set */
        CHECK_EQ_STR(c->data_dir, "./sluice-data");
        cf_destroy(c);
    }
}

static const char full[] =
    "data_dir: ./sluice-data          # where the journal (and later the lake) live\n"
    "listen: 127.0.0.1:8080\n"
    "auto_create_streams: false       # default true when no config file is given\n"
    "http:\n"
    "  max_connections: 1024\n"
    "  connection_timeout: 30s        # slow clients are cut off\n"
    "limits:\n"
    "  max_body_bytes: 10MB\n"
    "  max_record_bytes: 1MB\n"
    "  max_depth: 64\n"
    "  max_records_per_request: 100000\n"
    "  min_free_disk: 1GB             # below this, ingest answers 507\n"
    "streams:\n"
    "  events:\n"
    "    tokens: [s3cret, other-token]  # Bearer write tokens; omitted/empty = no auth\n"
    "    fsync: always                  # always | batch-ms N | never (never is UNSAFE)\n"
    "    segment_bytes: 64MB\n"
    "    retention: 7d                  # 0 = forever\n"
    "    retention_bytes: 0             # 0 = no cap\n"
    "    max_bytes: 0                   # disk budget: above it ingest answers 507\n"
    "    max_deliveries: 5              # consumer groups: dead letter after this many\n"
    "  clicks:\n"
    "    tokens:\n"
    "      - abc\n"
    "      - \"d:e#f\"\n"
    "    fsync: batch-ms 20\n"
    "    retention: 0\n"
    "  audit.log-v2:\n";

TEST(config_full_file)
{
    cf_config *c = load(full);
    CHECK_MSG(c, "%s", err);
    CHECK_EQ_STR(c->listen.host, "127.0.0.1");
    CHECK_EQ_INT(c->limits.max_record_bytes, 1000000);
    CHECK_EQ_INT(c->nstreams, 3);
    /* sorted by name */
    CHECK_EQ_STR(c->streams[0].name, "audit.log-v2");
    CHECK_EQ_STR(c->streams[1].name, "clicks");
    CHECK_EQ_STR(c->streams[2].name, "events");
    const cf_stream *e = cf_stream_find(c, "events");
    CHECK(e && e == &c->streams[2]);
    CHECK_EQ_INT(e->tokens.n, 2);
    CHECK_EQ_STR(e->tokens.v[0], "s3cret");
    CHECK_EQ_STR(e->tokens.v[1], "other-token");
    CHECK_EQ_INT(e->segment_bytes, 64000000);
    CHECK_EQ_INT(e->retention_ms, 7LL * 86400000);
    CHECK(cf_token_ok(e, "s3cret", 6));
    CHECK(cf_token_ok(e, "other-token", 11));
    CHECK(!cf_token_ok(e, "s3cre", 5));
    CHECK(!cf_token_ok(e, "s3crett", 7));
    CHECK(!cf_token_ok(e, "S3cret", 6));
    CHECK(!cf_token_ok(e, "", 0));
    CHECK(!cf_token_ok(e, NULL, 0));
    const cf_stream *k = cf_stream_find(c, "clicks");
    CHECK(k);
    CHECK_EQ_INT(k->tokens.n, 2);
    CHECK_EQ_STR(k->tokens.v[1], "d:e#f");
    CHECK_EQ_INT(k->fsync.mode, JR_FSYNC_BATCH);
    CHECK_EQ_INT(k->fsync.batch_ms, 20);
    CHECK_EQ_INT(k->retention_ms, 0);
    CHECK_EQ_INT(k->max_deliveries, 5);
    const cf_stream *a = cf_stream_find(c, "audit.log-v2");
    CHECK(a && a->tokens.n == 0 && a->segment_bytes == 64u << 20);
    CHECK(cf_stream_find(c, "nope") == NULL);

    jr_opts o;
    cf_stream_journal_opts(c, k, &o);
    CHECK_EQ_INT(o.fsync, JR_FSYNC_BATCH);
    CHECK_EQ_INT(o.batch_ms, 20);
    CHECK_EQ_INT(o.segment_bytes, 64 << 20);
    CHECK_EQ_INT(o.retention_ms, 0);
    CHECK_EQ_INT(o.max_record_bytes, 1000000);
    cf_destroy(c);

    /* the same through a real file */
    char path[512];
    snprintf(path, sizeof path, "%s/sluice.yaml", t_tmpdir());
    FILE *f = fopen(path, "w");
    CHECK(f);
    fputs(full, f);
    fclose(f);
    c = cf_load(path, err, sizeof err);
    CHECK_MSG(c, "%s", err);
    CHECK_EQ_STR(c->file, path);
    CHECK_EQ_INT(c->nstreams, 3);
    cf_destroy(c);
    snprintf(path, sizeof path, "%s/missing.yaml", t_tmpdir());
    CHECK(cf_load(path, err, sizeof err) == NULL);
    CHECK(strstr(err, "missing.yaml: cannot open: "));
}

TEST(config_value_types)
{
    /* each type: a good value and the exact message for a bad one */
    cf_config *c = load("data_dir: \"/var/lib/sluice data\"\nlisten: \"[::1]:0\"\n"
                        "auto_create_streams: yes\nlog_level: debug\n"
                        "http: {max_connections: 1, connection_timeout: 250ms}\n"
                        "limits: {max_body_bytes: 2KiB, max_record_bytes: 2048}\n");
    CHECK_MSG(c, "%s", err);
    CHECK_EQ_STR(c->data_dir, "/var/lib/sluice data");
    CHECK_EQ_STR(c->listen.host, "::1");
    CHECK_EQ_INT(c->listen.port, 0);
    CHECK(c->auto_create_streams);
    CHECK_EQ_INT(c->log_level, CF_LOG_DEBUG);
    CHECK_EQ_INT(c->http.max_connections, 1);
    CHECK_EQ_INT(c->http.connection_timeout_ms, 250);
    CHECK_EQ_INT(c->limits.max_body_bytes, 2048);
    cf_destroy(c);

    CHECK_EQ_STR(fails("limits:\n  max_depth: 3\n  max_body_bytes: ten\n"),
                 "sluice.yaml:3: limits.max_body_bytes: expected a size like 10MB, got 'ten'");
    CHECK_EQ_STR(fails("limits:\n  max_depth: 0\n"),
                 "sluice.yaml:2: limits.max_depth: must be between 1 and 1000, got '0'");
    CHECK_EQ_STR(fails("limits:\n  max_depth: 6.5\n"),
                 "sluice.yaml:2: limits.max_depth: expected an integer, got '6.5'");
    CHECK_EQ_STR(fails("limits:\n  max_body_bytes: 2GB\n"),
                 "sluice.yaml:2: limits.max_body_bytes: must be between 1KiB and 1GiB, got '2GB'");
    CHECK_EQ_STR(fails("auto_create_streams: maybe\n"),
                 "sluice.yaml:1: auto_create_streams: expected true or false, got 'maybe'");
    CHECK_EQ_STR(fails("log_level: loud\n"),
                 "sluice.yaml:1: log_level: expected one of debug, info, warn, error, got 'loud'");
    CHECK_EQ_STR(fails("\nlisten: 8080\n"),
                 "sluice.yaml:2: listen: expected host:port like 127.0.0.1:8080, got '8080'");
    CHECK_EQ_STR(fails("listen: localhost:65536\n"),
                 "sluice.yaml:1: listen: expected host:port like 127.0.0.1:8080, got "
                 "'localhost:65536'");
    CHECK_EQ_STR(fails("listen: :80\n"),
                 "sluice.yaml:1: listen: expected host:port like 127.0.0.1:8080, got ':80'");
    CHECK_EQ_STR(fails("http:\n  connection_timeout: 30 sec\n"),
                 "sluice.yaml:2: http.connection_timeout: expected a duration like 30s, got '30 "
                 "sec'");
    CHECK_EQ_STR(fails("http:\n  connection_timeout: 2d\n"),
                 "sluice.yaml:2: http.connection_timeout: must be between 100ms and 1d, got '2d'");
    CHECK_EQ_STR(fails("data_dir: ''\n"), "sluice.yaml:1: data_dir: must not be empty");
    CHECK_EQ_STR(fails("data_dir:\n"),
                 "sluice.yaml:1: data_dir: expected a string, got an empty value");
    CHECK_EQ_STR(fails("data_dir: [a]\n"), "sluice.yaml:1: data_dir: expected a string, got a list");
    CHECK_EQ_STR(fails("data_dir: \"a\\0b\"\n"),
                 "sluice.yaml:1: data_dir: must not contain a NUL byte");
    CHECK_EQ_STR(fails("http: 5\n"), "sluice.yaml:1: http: expected a mapping of keys, got '5'");
    CHECK_EQ_STR(fails("streams: [a]\n"),
                 "sluice.yaml:1: streams: expected a mapping of names to settings, got a list");
    CHECK_EQ_STR(fails("streams:\n  e: 5\n"),
                 "sluice.yaml:2: streams.e: expected a mapping of keys, got '5'");
    CHECK_EQ_STR(fails("streams:\n  e:\n    tokens: abc\n"),
                 "sluice.yaml:3: streams.e.tokens: expected a list like [a, b], got a single value (write it as [value])");
    CHECK_EQ_STR(fails("streams:\n  e:\n    tokens:\n      - a\n      - [b]\n"),
                 "sluice.yaml:5: streams.e.tokens: list items must be plain values, got a list");
    CHECK_EQ_STR(fails("streams:\n  e:\n    tokens: [a, '']\n"),
                 "sluice.yaml:3: streams.e.tokens: tokens must not be empty");
    CHECK_EQ_STR(fails("streams:\n  e:\n    tokens: [a, 'b c']\n"),
                 "sluice.yaml:3: streams.e.tokens: tokens may only contain visible ASCII "
                 "characters");
    CHECK_EQ_STR(fails("streams:\n  e:\n    tokens: [a, b, a]\n"),
                 "sluice.yaml:3: streams.e.tokens: duplicate item");
    CHECK_EQ_STR(fails("streams:\n  e:\n    max_deliveries: -1\n"),
                 "sluice.yaml:3: streams.e.max_deliveries: must be between 1 and 1000000, got '-1'");
    CHECK_EQ_STR(fails("streams:\n  e:\n    retention_bytes: -1\n"),
                 "sluice.yaml:3: streams.e.retention_bytes: expected a size like 10MB, got '-1'");
    /* cross-field check, reported at the section */
    CHECK_EQ_STR(fails("limits:\n  max_body_bytes: 1MB\n  max_record_bytes: 2MB\n"),
                 "sluice.yaml:2: limits: max_record_bytes (2MB) must not exceed max_body_bytes "
                 "(1MB)");
    /* empty sections and lists are fine */
    c = load("http:\nlimits: {}\nstreams:\n  e: {tokens: []}\n  f:\n    tokens:\n");
    CHECK_MSG(c, "%s", err);
    CHECK_EQ_INT(c->nstreams, 2);
    CHECK_EQ_INT(c->streams[0].tokens.n, 0);
    cf_destroy(c);
}

TEST(config_sizes)
{
    static const struct {
        const char *s;
        uint64_t v;
    } ok[] = {{"0", 0},           {"123", 123},        {"10B", 10},
              {"10MB", 10000000}, {"10 MB", 10000000}, {"10mb", 10000000},
              {"1KB", 1000},      {"1KiB", 1024},      {"64MiB", 64ull << 20},
              {"1GB", 1000000000}, {"2GiB", 2ull << 30}, {"3TB", 3000000000000ull},
              {"1TiB", 1ull << 40}, {"18446744073709551615", UINT64_MAX}};
    static const char *bad[] = {"",   "MB",   "-1",   "1.5GB", "10M",  "10  MB", "10 ",
                                "1PB", "ten", "0x10", "1e6",   "18446744073709551616",
                                "17000000TiB"};
    for (size_t i = 0; i < sizeof ok / sizeof ok[0]; i++) {
        uint64_t v = 1;
        CHECK_MSG(!cf__parse_size(ok[i].s, strlen(ok[i].s), &v), "'%s'", ok[i].s);
        CHECK_MSG(v == ok[i].v, "'%s' -> %llu", ok[i].s, (unsigned long long)v);
    }
    for (size_t i = 0; i < sizeof bad / sizeof bad[0]; i++) {
        uint64_t v;
        CHECK_MSG(cf__parse_size(bad[i], strlen(bad[i]), &v), "'%s' parsed", bad[i]);
    }
    char b[32];
    CHECK_EQ_STR(cf__fmt_size(b, 0), "0");
    CHECK_EQ_STR(cf__fmt_size(b, 64 << 20), "64MiB");
    CHECK_EQ_STR(cf__fmt_size(b, 10000000), "10MB");
    CHECK_EQ_STR(cf__fmt_size(b, 1234), "1234B");
}

TEST(config_durations)
{
    static const struct {
        const char *s;
        int64_t ms;
    } ok[] = {{"0", 0},          {"30", 30000},       {"30s", 30000},   {"250ms", 250},
              {"5m", 300000},    {"2h", 7200000},     {"7d", 604800000}, {"7 d", 604800000},
              {"10S", 10000}};
    static const char *bad[] = {"", "s", "-1s", "1.5s", "1w", "30 sec", "1h30m", "ms",
                                "9223372036854775807d"};
    for (size_t i = 0; i < sizeof ok / sizeof ok[0]; i++) {
        int64_t v = -1;
        CHECK_MSG(!cf__parse_duration(ok[i].s, strlen(ok[i].s), &v), "'%s'", ok[i].s);
        CHECK_MSG(v == ok[i].ms, "'%s' -> %lld", ok[i].s, (long long)v);
    }
    for (size_t i = 0; i < sizeof bad / sizeof bad[0]; i++) {
        int64_t v;
        CHECK_MSG(cf__parse_duration(bad[i], strlen(bad[i]), &v), "'%s' parsed", bad[i]);
    }
    char b[32];
    CHECK_EQ_STR(cf__fmt_duration(b, 0), "0");
    CHECK_EQ_STR(cf__fmt_duration(b, 604800000), "7d");
    CHECK_EQ_STR(cf__fmt_duration(b, 90000), "90s");
    CHECK_EQ_STR(cf__fmt_duration(b, 1500), "1500ms");
}

TEST(config_fsync_specs)
{
    cf_fsync f;
    CHECK(!cf__parse_fsync("always", 6, &f) && f.mode == JR_FSYNC_ALWAYS);
    CHECK(!cf__parse_fsync("never", 5, &f) && f.mode == JR_FSYNC_NEVER);
    CHECK(!cf__parse_fsync("batch-ms 5", 10, &f) && f.mode == JR_FSYNC_BATCH && f.batch_ms == 5);
    CHECK(!cf__parse_fsync("batch-ms 10000", 14, &f) && f.batch_ms == 10000);
    static const char *bad[] = {"",           "sometimes", "batch-ms",  "batch-ms ",
                                "batch-ms 0", "batch-ms 10001", "batch-ms x", "batch-ms 5ms",
                                "batch-ms5",  "batch 5",   "always "};
    for (size_t i = 0; i < sizeof bad / sizeof bad[0]; i++)
        CHECK_MSG(cf__parse_fsync(bad[i], strlen(bad[i]), &f), "'%s' parsed", bad[i]);
    CHECK_EQ_STR(fails("streams:\n  e:\n    fsync: batch-ms 0\n"),
                 "sluice.yaml:3: streams.e.fsync: expected always, never or batch-ms N, got "
                 "'batch-ms 0'");
    cf_config *c = load("streams:\n  e:\n    fsync: never\n");
    CHECK_MSG(c, "%s", err);
    CHECK_EQ_INT(c->streams[0].fsync.mode, JR_FSYNC_NEVER);
    cf_destroy(c);
}

TEST(config_hostport)
{
    cf_hostport h;
    CHECK(!cf__parse_hostport("0.0.0.0:80", 10, &h) && !strcmp(h.host, "0.0.0.0") && h.port == 80);
    CHECK(!cf__parse_hostport("my-host.local:65535", 19, &h) && h.port == 65535);
    CHECK(!cf__parse_hostport("[fe80::1]:1", 11, &h) && !strcmp(h.host, "fe80::1"));
    static const char *bad[] = {"host", "host:", ":1", "h:x", "h:-1", "h:000080", "[::1]",
                                "[::1]80", "[]:1", "a b:1", "::1:80", "h:1:2"};
    for (size_t i = 0; i < sizeof bad / sizeof bad[0]; i++)
        CHECK_MSG(cf__parse_hostport(bad[i], strlen(bad[i]), &h), "'%s' parsed", bad[i]);
}

TEST(config_unknown_keys)
{
    CHECK_EQ_STR(fails("streams:\n  events:\n    tokens: [a]\n\n    fsnyc: always\n"),
                 "sluice.yaml:5: streams.events: unknown key 'fsnyc' (did you mean 'fsync'?)");
    CHECK_EQ_STR(fails("listn: 127.0.0.1:1\n"),
                 "sluice.yaml:1: unknown key 'listn' (did you mean 'listen'?)");
    CHECK_EQ_STR(fails("http:\n  max_conections: 5\n"),
                 "sluice.yaml:2: http: unknown key 'max_conections' (did you mean "
                 "'max_connections'?)");
    CHECK_EQ_STR(fails("limits:\n  max_body: 5\n"),
                 "sluice.yaml:2: limits: unknown key 'max_body' (did you mean 'max_body_bytes'?)");
    CHECK_EQ_STR(fails("Data_Dir: x\n"),
                 "sluice.yaml:1: unknown key 'Data_Dir' (did you mean 'data_dir'?)");
    CHECK_EQ_STR(fails("fsync: always\n"),
                 "sluice.yaml:1: unknown key 'fsync' here (it belongs under streams.<name>)");
    CHECK_EQ_STR(fails("streams:\n  e:\n    max_depth: 3\n"),
                 "sluice.yaml:3: streams.e: unknown key 'max_depth' here (it belongs under "
                 "limits)");
    CHECK_EQ_STR(fails("sinks: {}\n"), "sluice.yaml:1: unknown key 'sinks'");
    CHECK_EQ_STR(fails("? [a]\n: 1\n"), "sluice.yaml:1: keys must be plain strings, got a list");
    CHECK_EQ_INT(cf__edit_distance("fsnyc", "fsync"), 1);
    CHECK_EQ_INT(cf__edit_distance("", "abc"), 3);
    CHECK_EQ_INT(cf__edit_distance("kitten", "sitting"), 3);
}

TEST(config_duplicates)
{
    CHECK_EQ_STR(fails("listen: a:1\ndata_dir: x\nlisten: b:2\n"),
                 "sluice.yaml:3: duplicate key 'listen' (first at line 1)");
    CHECK_EQ_STR(fails("streams:\n  e:\n    fsync: never\n    fsync: always\n"),
                 "sluice.yaml:4: streams.e: duplicate key 'fsync' (first at line 3)");
    CHECK_EQ_STR(fails("streams:\n  e:\n  f:\n  e:\n"),
                 "sluice.yaml:4: streams: duplicate name 'e' (first at line 2)");
    CHECK_EQ_STR(fails("http: {max_connections: 1}\nhttp: {max_connections: 2}\n"),
                 "sluice.yaml:2: duplicate key 'http' (first at line 1)");
}

TEST(config_yaml_syntax_and_features)
{
    CHECK_EQ_STR(fails("listen: 127.0.0.1:8080\nhttp: {max_connections: 5\n"),
                 "sluice.yaml:3:1: YAML syntax error: did not find expected ',' or '}' while "
                 "parsing a flow mapping");
    CHECK_EQ_STR(fails("data_dir: x\n\tlisten: a:1\n"),
                 "sluice.yaml:2:1: YAML syntax error: found a tab character that violates "
                 "indentation while scanning a plain scalar");
    CHECK_EQ_STR(fails("listen: b: c\n"), "sluice.yaml:1:10: YAML syntax error: mapping values "
                                             "are not allowed in this context");
    /* syntax errors win over problems earlier in the file */
    CHECK_EQ_STR(fails("sinks: x\nlisten: \"a:1\n"),
                 "sluice.yaml:3:1: YAML syntax error: found unexpected end of stream while "
                 "scanning a quoted scalar");
    /* invalid UTF-8: a reader error, line counted from the offset */
    CHECK_EQ_STR(fails("data_dir: x\nlisten: \xff\n"),
                 "sluice.yaml:2:9: YAML syntax error: invalid leading UTF-8 octet");
    CHECK_EQ_STR(fails("data_dir: &d x\n"),
                 "sluice.yaml:1: YAML anchors (&name) are not supported; write the value out");
    CHECK_EQ_STR(fails("streams:\n  a: &s {fsync: never}\n  b: *s\n"),
                 "sluice.yaml:2: YAML anchors (&name) are not supported; write the value out");
    CHECK_EQ_STR(fails("streams:\n  b: *s\n"),
                 "sluice.yaml:2: YAML aliases (*name) are not supported; write the value out");
    CHECK_EQ_STR(fails("data_dir: !!str x\n"), "sluice.yaml:1: YAML tags (!tag) are not supported");
    CHECK_EQ_STR(fails("data_dir: x\n---\ndata_dir: y\n"),
                 "sluice.yaml:2: only one YAML document is allowed (remove the second '---')");
    CHECK_EQ_STR(fails("- a\n- b\n"),
                 "sluice.yaml:1: expected a mapping of keys at the top level (like 'listen: "
                 "127.0.0.1:8080'), got a list");
    CHECK_EQ_STR(fails("hello\n"),
                 "sluice.yaml:1: expected a mapping of keys at the top level (like 'listen: "
                 "127.0.0.1:8080'), got 'hello'");
}

TEST(config_stream_names)
{
    static const char *good[] = {"a", "A-b_c.9", "0", "x.y.z"};
    for (size_t i = 0; i < sizeof good / sizeof good[0]; i++) {
        char text[256];
        snprintf(text, sizeof text, "streams:\n  '%s':\n", good[i]);
        cf_config *c = load(text);
        CHECK_MSG(c, "%s: %s", good[i], err);
        CHECK(cf_stream_find(c, good[i]));
        cf_destroy(c);
    }
    char name65[66];
    memset(name65, 'n', 65);
    name65[65] = 0;
    char text[256];
    snprintf(text, sizeof text, "streams:\n  %.64s:\n", name65);
    cf_config *c = load(text);
    CHECK_MSG(c, "%s", err);
    cf_destroy(c);
    snprintf(text, sizeof text, "streams:\n  %s:\n", name65);
    CHECK(strstr(fails(text), "streams: stream name 'nnnnnnnnnn"));
    CHECK(strstr(fails(text), "' is not valid: longer than 64 bytes"));
    CHECK_EQ_STR(fails("streams:\n  'a b':\n"),
                 "sluice.yaml:2: streams: stream name 'a b' is not valid: ' ' at byte 2 is not "
                 "allowed; use A-Z a-z 0-9 _ . -");
    CHECK_EQ_STR(fails("streams:\n  a/b:\n"),
                 "sluice.yaml:2: streams: stream name 'a/b' is not valid: '/' at byte 2 is not "
                 "allowed; use A-Z a-z 0-9 _ . -");
    CHECK_EQ_STR(fails("streams:\n  ..:\n"),
                 "sluice.yaml:2: streams: stream name '..' is not valid: it must not start with "
                 "'.' or '-'");
    CHECK_EQ_STR(fails("streams:\n  '':\n"), "sluice.yaml:2: streams: stream name is empty");
    /* the server would refuse these at start; the config says so with a line */
    CHECK(strstr(fails("streams:\n  ev.errors:\n"), "sluice.yaml:2: streams: stream name "
                                                      "'ev.errors' is not valid: names ending in "
                                                      ".errors are reserved"));
    CHECK(strstr(fails("streams:\n  ok: {}\n  ev.dlq: {}\n"), "sluice.yaml:3:"));
    /* connections are SQL schema names */
    CHECK(strstr(fails("postgres:\n  pg-prod:\n    conninfo: x\n"),
                 "sluice.yaml:2: postgres: connection name 'pg-prod' is not valid: '-'"));
    CHECK(strstr(fails("sqlite:\n  Main:\n    path: x.db\n"), "'main' is a schema SQL already has"));
    CHECK(strstr(fails("postgres:\n  lake: {}\n"), "connection name 'lake' is not valid"));
    /* postgres and sqlite names share SQL's schema namespace, without case */
    CHECK(strstr(fails("postgres:\n  ref: {}\nsqlite:\n  Ref:\n    path: r.db\n"),
                 "postgres.ref and sqlite.Ref would both be the SQL schema 'Ref'"));
    CHECK(strstr(fails("sqlite:\n  a:\n    path: a.db\n  A:\n    path: b.db\n"),
                 "would both be the SQL schema 'a"));
    CHECK_EQ_STR(fails("streams:\n  [a]: {}\n"),
                 "sluice.yaml:2: streams: names must be plain strings, got a list");
}

TEST(config_caps)
{
    ut_buf b = {0};
    /* streams */
    ut_buf_puts(&b, "streams:\n");
    for (int i = 0; i < CF_MAX_STREAMS; i++) ut_buf_printf(&b, "  s%04d:\n", CF_MAX_STREAMS - i);
    ut_buf_putc(&b, 0);
    cf_config *c = load((char *)b.p);
    CHECK_MSG(c, "%s", err);
    CHECK_EQ_INT(c->nstreams, CF_MAX_STREAMS);
    CHECK_EQ_STR(c->streams[0].name, "s0001");
    CHECK(cf_stream_find(c, "s0512"));
    CHECK(cf_stream_find(c, "s1024"));
    cf_destroy(c);
    b.len--;
    ut_buf_puts(&b, "  one-more:\n");
    ut_buf_putc(&b, 0);
    CHECK_EQ_STR(fails((char *)b.p), "sluice.yaml:1026: streams: more than 1024 entries (the limit)");

    /* tokens per stream and token length */
    ut_buf_reset(&b);
    ut_buf_puts(&b, "streams:\n  e:\n    tokens: [");
    for (int i = 0; i <= CF_MAX_TOKENS; i++) ut_buf_printf(&b, "%st%d", i ? ", " : "", i);
    ut_buf_puts(&b, "]\n");
    ut_buf_putc(&b, 0);
    CHECK_EQ_STR(fails((char *)b.p), "sluice.yaml:3: streams.e.tokens: at most 64 items");
    ut_buf_reset(&b);
    ut_buf_puts(&b, "streams:\n  e:\n    tokens:\n      - ");
    for (int i = 0; i <= CF_MAX_TOKEN_LEN; i++) ut_buf_putc(&b, 'x');
    ut_buf_puts(&b, "\n");
    ut_buf_putc(&b, 0);
    CHECK_EQ_STR(fails((char *)b.p), "sluice.yaml:4: streams.e.tokens: tokens must be at most 256 "
                                     "characters");

    /* any value */
    ut_buf_reset(&b);
    ut_buf_puts(&b, "data_dir: ");
    for (int i = 0; i <= CF_MAX_STRING; i++) ut_buf_putc(&b, 'd');
    ut_buf_putc(&b, 0);
    CHECK_EQ_STR(fails((char *)b.p), "sluice.yaml:1: data_dir: value is longer than 4096 bytes");

    /* the file */
    ut_buf_reset(&b);
    ut_buf_puts(&b, "data_dir: x\n");
    while (b.len <= CF_MAX_FILE_BYTES) ut_buf_puts(&b, "# padding padding padding padding\n");
    CHECK(cf_load_mem(b.p, b.len, "big.yaml", err, sizeof err) == NULL);
    CHECK_EQ_STR(err, "big.yaml: file is bigger than 1048576 bytes (the limit for config files)");
    char path[512];
    snprintf(path, sizeof path, "%s/big.yaml", t_tmpdir());
    FILE *f = fopen(path, "w");
    CHECK(f);
    fwrite(b.p, 1, b.len, f);
    fclose(f);
    CHECK(cf_load(path, err, sizeof err) == NULL);
    CHECK(strstr(err, "big.yaml: file is bigger than 1048576 bytes"));
    ut_buf_free(&b);

    /* deep nesting is refused at the first wrong shape, not walked */
    ut_buf_reset(&b);
    ut_buf_puts(&b, "http: ");
    for (int i = 0; i < 100000; i++) ut_buf_putc(&b, '[');
    for (int i = 0; i < 100000; i++) ut_buf_putc(&b, ']');
    ut_buf_putc(&b, 0);
    CHECK_EQ_STR(fails((char *)b.p), "sluice.yaml:1: lists and mappings nest deeper than 64 levels");
    /* (64 levels are parsed, and the walk names the wrong shape) */
    ut_buf_reset(&b);
    ut_buf_puts(&b, "http: ");
    for (int i = 0; i < 63; i++) ut_buf_putc(&b, '[');
    for (int i = 0; i < 63; i++) ut_buf_putc(&b, ']');
    ut_buf_putc(&b, 0);
    CHECK_EQ_STR(fails((char *)b.p), "sluice.yaml:1: http: expected a mapping of keys, got a list");
    ut_buf_reset(&b);
    ut_buf_puts(&b, "http:\n");
    for (int i = 0; i < 100; i++) ut_buf_printf(&b, "%*s- \n", 2 * i + 2, "");
    ut_buf_putc(&b, 0);
    CHECK(strstr(fails((char *)b.p), "nest deeper than 64 levels"));
    ut_buf_free(&b);
}

TEST(config_token_compare)
{
    cf_stream s;
    cf_stream_defaults(&s);
    char *toks[] = {"alpha", "b"};
    s.tokens.v = toks;
    s.tokens.n = 2;
    CHECK(cf_token_ok(&s, "alpha", 5));
    CHECK(cf_token_ok(&s, "b", 1));
    CHECK(cf_token_ok(&s, "alphaX", 5)); /* only len bytes are the token */
    CHECK(!cf_token_ok(&s, "alphaX", 6));
    CHECK(!cf_token_ok(&s, "bb", 2));
    CHECK(!cf_token_ok(&s, "alph", 4));
    CHECK(!cf_token_ok(&s, "", 0));
    CHECK(!cf_token_ok(&s, NULL, 5));
    CHECK(cf_token_ok(NULL, "x", 1));
    s.tokens.v = NULL;
    s.tokens.n = 0;
    cf_stream_clear(&s);
}

/* The whole text of a file, or NULL. */
static char *slurp(const char *path, size_t *n)
{
    FILE *f = fopen(path, "rb");
    if (!f) return NULL;
    ut_buf b = {0};
    char tmp[4096];
    size_t k;
    while ((k = fread(tmp, 1, sizeof tmp, f)) > 0) ut_buf_put(&b, tmp, k);
    fclose(f);
    ut_buf_putc(&b, 0);
    *n = b.len - 1;
    return (char *)b.p;
}

TEST(config_reference_is_current)
{
    char *gen = NULL, *have = NULL;
    size_t gn = 0, hn = 0;
    FILE *m = open_memstream(&gen, &gn);
    CHECK(m);
    CHECK_EQ_INT(cf_write_reference(m), 0);
    fclose(m);
    have = slurp("docs/configuration.md", &hn);
    int same = have && hn == gn && !memcmp(have, gen, gn);
    if (!same) {
        t_fail(__FILE__, __LINE__,
               "docs/configuration.md %s the generated reference; regenerate it from the repo "
               "root with: build/sluice config --reference > docs/configuration.md",
               have ? "differs from" : "is missing, expected");
    }
    /* the example in the reference loads, and is all defaults */
    char *y = strstr(gen, "```yaml\n");
    char *end = y ? strstr(y + 8, "```\n") : NULL;
    if (y && end) {
        cf_config *c = cf_load_mem(y + 8, (size_t)(end - y - 8), "example", err, sizeof err);
        if (!c) t_fail(__FILE__, __LINE__, "reference example: %s", err);
        else {
            cf_config *d = cf_default();
            if (c->nstreams != 1 || c->auto_create_streams ||
                memcmp(&c->limits, &d->limits, sizeof d->limits) ||
                memcmp(&c->http, &d->http, sizeof d->http))
                t_fail(__FILE__, __LINE__, "reference example is not the defaults");
            cf_destroy(d);
            cf_destroy(c);
        }
    } else {
        t_fail(__FILE__, __LINE__, "no yaml example in the reference");
    }
    free(gen);
    free(have);
}

TEST(config_sink_tables_and_collisions)
{
    char t[CF_TABLE_MAX];
    cf_sink_table("a-b.c", "", t, sizeof t);
    CHECK_EQ_STR(t, "t1_a_b_c");
    cf_sink_table("a-b", NULL, t, sizeof t);
    CHECK_EQ_STR(t, "t1_a_b");
    cf_sink_table("x", "mine", t, sizeof t);
    CHECK_EQ_STR(t, "mine");
    CHECK(cf_tables_collide("t1_a_b", "t1_a_b"));
    CHECK(cf_tables_collide("t1_A_b", "t1_a_B"));        /* SQLite names ignore case */
    CHECK(cf_tables_collide("t1_a", "t1_a_errors"));     /* the sink's errors table */
    CHECK(cf_tables_collide("T1_A_ERRORS", "t1_a"));
    CHECK(!cf_tables_collide("t1_a", "t1_ab"));
    CHECK(!cf_tables_collide("t1_a", "t1_a_errors_errors"));
    CHECK(!cf_tables_collide("t1_a_b", "t1_a_c"));
    /* over 120 characters the errors table's name is cut and hashed: that
     * name collides, with a table and with another table's errors table */
    char lng[126], lerr[LK_TABLE_NAME_MAX + 1], other[LK_TABLE_NAME_MAX + 1];
    memset(lng, 'l', 125);
    lng[125] = 0;
    lk_errors_table_name(lng, lerr);
    CHECK(strcmp(lerr + strlen(lerr) - 7, "_errors") == 0 && strncmp(lerr, lng, 111) == 0);
    CHECK(cf_tables_collide(lng, lerr));
    CHECK(cf_tables_collide(lerr, lng));
    snprintf(other, sizeof other, "%.*s", (int)strlen(lerr) - 7, lerr); /* its errors: lerr */
    CHECK(cf_tables_collide(lng, other));
    lng[124] = 'm';
    CHECK(!cf_tables_collide(lng, lerr)); /* another name, another hash */

    /* refused at load, naming both streams */
    const char *m = fails("streams:\n  a-b: {}\n  a_b: {}\n");
    CHECK(strstr(m, "streams a-b and a_b both land in table t1_a_b") != NULL);
    m = fails("streams:\n  A_b: {}\n  a_b: {}\n");
    CHECK(strstr(m, "A_b and a_b") != NULL);
    m = fails("streams:\n  x: {sink: {table: t1_y_errors}}\n  y: {}\n");
    CHECK(strstr(m, "streams x and y") != NULL && strstr(m, "_errors") != NULL);
    m = fails("streams:\n  a: {}\n  a_errors: {}\n");
    CHECK(strstr(m, "streams a and a_errors") != NULL);
    /* no sink, no table: no collision; distinct tables are fine */
    cf_config *c = load("streams:\n  a-b: {sink: {enabled: false}}\n  a_b: {}\n"
                        "  c-d: {sink: {table: t_cd}}\n  c_d: {}\n");
    CHECK(c != NULL);
    CHECK_EQ_INT(cf_check_tables(c, err, sizeof err), 0);
    cf_destroy(c);
    c = load("shutdown_timeout: 250ms\n");
    CHECK(c != NULL && c->shutdown_timeout_ms == 250);
    cf_destroy(c);
    c = cf_default();
    CHECK_EQ_INT(c->shutdown_timeout_ms, 5000);
    cf_destroy(c);
}

/* tables.<t>.merge is on when given (a mapping, or empty), off when absent */
TEST(config_snapshot_merge_given)
{
    cf_config *c = load("postgres:\n  app: {conninfo: \"\"}\njobs:\n  j:\n    kind: snapshot\n"
                            "    source: app\n    tables:\n"
                            "      s.a: {cursor: u, merge: {}}\n"
                            "      s.b:\n        cursor: u\n        merge:\n"
                            "      s.c: {cursor: u, merge: {key: [x, y], view: b_now}}\n"
                            "      s.d: {cursor: u}\n");
    CHECK_MSG(c, "%s", err);
    if (!c) return;
    const cf_job *j = &c->jobs[0];
    CHECK(cf_snap_table_find(j, "s.a")->merge.line > 0);
    CHECK(cf_snap_table_find(j, "s.b")->merge.line > 0);
    const cf_snap_merge *m = &cf_snap_table_find(j, "s.c")->merge;
    CHECK(m->line > 0 && m->key.n == 2 && !strcmp(m->key.v[1], "y") && !strcmp(m->view, "b_now"));
    CHECK_EQ_INT(cf_snap_table_find(j, "s.d")->merge.line, 0);
    cf_destroy(c);
    c = load("postgres:\n  app: {conninfo: \"\"}\njobs:\n  j:\n    kind: snapshot\n"
                 "    source: app\n    tables:\n      s.a: {cursor: u, merge: {key: [x, x]}}\n");
    CHECK(!c && strstr(err, "jobs.j.tables.s.a.merge.key: duplicate item"));
    c = load("postgres:\n  app: {conninfo: \"\"}\njobs:\n  j:\n    kind: snapshot\n"
                 "    source: app\n    tables:\n      s.a: {cursor: u, merge: {view: \"a b\"}}\n");
    CHECK(!c && strstr(err, "merge"));
}
