#include "t.h"
#include "convert/convert.h"
#include "json/json.h"
#include "log/log.h"
#include "parquet/parquet.h"

#include <stdlib.h>
#include <unistd.h>
#include <zlib.h>

static char err[512];

/* Infer from NDJSON lines in text; return "name:type,..." */
static const char *infer_ndjson(const char *text)
{
    static char out[1024];
    cv_infer *inf = cv_infer_create();
    js_parser *p = js_parser_create(0, 0);
    const char *l = text;
    while (*l) {
        const char *e = strchr(l, '\n');
        size_t n = e ? (size_t)(e - l) : strlen(l);
        cv_infer_json(inf, p, l, n, err, sizeof err);
        l += n + (e ? 1 : 0);
    }
    cv_schema *s = cv_infer_schema(inf);
    size_t o = 0;
    out[0] = 0;
    for (int i = 0; i < cv_schema_ncols(s); i++)
        o += (size_t)snprintf(out + o, sizeof out - o, "%s%s:%s", i ? "," : "", cv_schema_name(s, i),
                              cv_type_name(cv_schema_type(s, i)));
    cv_schema_destroy(s);
    cv_infer_destroy(inf);
    js_parser_destroy(p);
    return out;
}

TEST(infer_widening)
{
    CHECK_EQ_STR(infer_ndjson("{\"a\":1,\"b\":true}\n{\"a\":2.5,\"c\":null}\n"),
                 "a:double,b:bool,c:string");
    CHECK_EQ_STR(infer_ndjson("{\"t\":\"2024-05-01T00:00:00Z\"}\n{\"t\":null}\n{\"t\":\"2024-05-01 01:02:03.5+02:00\"}"),
                 "t:timestamp");
    CHECK_EQ_STR(infer_ndjson("{\"t\":\"2024-05-01T00:00:00Z\"}\n{\"t\":\"soon\"}"), "t:string");
    CHECK_EQ_STR(infer_ndjson("{\"x\":true}\n{\"x\":1}"), "x:string");         /* bool + number */
    CHECK_EQ_STR(infer_ndjson("{\"x\":{\"y\":1}}\n{\"x\":[1]}"), "x:string");  /* nested */
    CHECK_EQ_STR(infer_ndjson("{\"x\":1}\n{\"x\":\"1\"}"), "x:string");
    CHECK_EQ_STR(infer_ndjson("{\"x\":9223372036854775808}"), "x:double");
    /* bad records and records with duplicate keys add nothing */
    CHECK_EQ_STR(infer_ndjson("{\"a\":1}\n{\"a\":\"s\",\"zz\":1\n[1]\n{\"a\":1,\"a\":\"x\"}"), "a:int64");
}

TEST(infer_classify_text)
{
    CHECK_EQ_INT(cv_classify_text("", 0, 0), 0);
    CHECK_EQ_INT(cv_classify_text("", 0, 1), PQ_STRING);
    CHECK_EQ_INT(cv_classify_text("TRUE", 4, 0), PQ_BOOL);
    CHECK_EQ_INT(cv_classify_text("-12", 3, 0), PQ_INT64);
    CHECK_EQ_INT(cv_classify_text("007", 3, 0), PQ_STRING); /* keeps leading zeros */
    CHECK_EQ_INT(cv_classify_text("1.5e3", 5, 1), PQ_DOUBLE);
    CHECK_EQ_INT(cv_classify_text("99999999999999999999", 20, 0), PQ_DOUBLE);
    CHECK_EQ_INT(cv_classify_text("2024-05-01T00:00:00Z", 20, 0), PQ_TIMESTAMP);
    CHECK_EQ_INT(cv_classify_text("2024-05-01", 10, 0), PQ_STRING);
    CHECK_EQ_INT(cv_classify_text("1,5", 3, 0), PQ_STRING);
}

TEST(infer_schema_spec)
{
    cv_schema *s = cv_schema_parse(" id:int64! , ts : timestamp,d:DATE,f:float", err, sizeof err);
    CHECK_MSG(s != NULL, "%s", err);
    CHECK_EQ_INT(cv_schema_ncols(s), 4);
    CHECK_EQ_STR(cv_schema_name(s, 1), "ts");
    CHECK_EQ_INT(cv_schema_type(s, 2), PQ_DATE);
    CHECK_EQ_INT(cv_schema_required(s, 0), 1);
    CHECK_EQ_INT(cv_schema_required(s, 1), 0);
    CHECK_EQ_INT(cv_schema_find(s, "f", 1), 3);
    cv_schema_destroy(s);
    CHECK(cv_schema_parse("a:int64,a:string", err, sizeof err) == NULL);
    CHECK(cv_schema_parse("a:integer", err, sizeof err) == NULL);
    CHECK(strstr(err, "unknown type") != NULL);
    CHECK(cv_schema_parse("a", err, sizeof err) == NULL);
    CHECK(cv_schema_parse(":int64", err, sizeof err) == NULL);
}

TEST(infer_format_detection)
{
    CHECK_EQ_INT(cv_format_from_name("x/ev.ndjson.gz"), CV_NDJSON);
    CHECK_EQ_INT(cv_format_from_name("a.JSONL"), CV_NDJSON);
    CHECK_EQ_INT(cv_format_from_name("a.tsv.zst"), CV_TSV);
    CHECK_EQ_INT(cv_format_from_name("a.csv"), CV_CSV);
    CHECK_EQ_INT(cv_format_from_name("-"), CV_AUTO);
    CHECK_EQ_INT(cv_format_sniff((const uint8_t *)"  \n{\"a\":1}", 10), CV_NDJSON);
    CHECK_EQ_INT(cv_format_sniff((const uint8_t *)"a\tb,c\tz\n", 8), CV_TSV);
    CHECK_EQ_INT(cv_format_sniff((const uint8_t *)"a,b\n1,2\n", 8), CV_CSV);
}

/* ---- convert round trips (read back with the Parquet reader) ------------ */

static char *write_tmp(const char *name, const char *text, size_t n)
{
    static char path[4][512];
    static int k;
    char *p = path[k++ % 4];
    snprintf(p, 512, "%s/%s", t_tmpdir(), name);
    FILE *f = fopen(p, "wb");
    fwrite(text, 1, n, f);
    fclose(f);
    return p;
}

static char *out_path(const char *name)
{
    static char p[512];
    snprintf(p, sizeof p, "%s/%s", t_tmpdir(), name);
    return p;
}

/* Render column col of the file: "v1|v2|null|..." (all row groups). */
static const char *column_text(const char *path, const char *name)
{
    static char out[4096];
    size_t o = 0;
    out[0] = 0;
    pq_reader *r = pq_reader_open(path, err, sizeof err);
    if (!r) return err;
    int col = pq_reader_find_column(r, name);
    if (col < 0) {
        pq_reader_destroy(r);
        return "(no such column)";
    }
    for (int rg = 0; rg < pq_reader_num_row_groups(r); rg++) {
        pq_col c;
        if (pq_reader_read(r, rg, col, &c, err, sizeof err)) {
            pq_reader_destroy(r);
            return err;
        }
        for (int64_t i = 0; i < c.n; i++) {
            const char *sep = o ? "|" : "";
            if (c.nulls && c.nulls[i]) {
                o += (size_t)snprintf(out + o, sizeof out - o, "%snull", sep);
                continue;
            }
            switch (c.kind) {
            case PQ_K_BOOL: o += (size_t)snprintf(out + o, sizeof out - o, "%s%d", sep, ((uint8_t *)c.values)[i]); break;
            case PQ_K_I32: o += (size_t)snprintf(out + o, sizeof out - o, "%s%d", sep, ((int32_t *)c.values)[i]); break;
            case PQ_K_I64: o += (size_t)snprintf(out + o, sizeof out - o, "%s%lld", sep, (long long)((int64_t *)c.values)[i]); break;
            case PQ_K_F32: o += (size_t)snprintf(out + o, sizeof out - o, "%s%g", sep, (double)((float *)c.values)[i]); break;
            case PQ_K_F64: o += (size_t)snprintf(out + o, sizeof out - o, "%s%g", sep, ((double *)c.values)[i]); break;
            case PQ_K_BYTES:
                o += (size_t)snprintf(out + o, sizeof out - o, "%s%.*s", sep, (int)(c.off[i + 1] - c.off[i]),
                                      (const char *)c.data + c.off[i]);
                break;
            }
        }
        pq_col_free(&c);
    }
    pq_reader_destroy(r);
    return out;
}

static int convert(const char *in, const char *out, const char *schema, cv_stats *st)
{
    cv_opts o;
    cv_opts_init(&o);
    o.schema = schema;
    o.max_report = 0;
    return cv_convert(in, out, &o, st, err, sizeof err);
}

TEST(convert_ndjson_roundtrip)
{
    const char *text = "{\"id\":1,\"name\":\"a\\u00e9\",\"ts\":\"2024-05-01T00:00:00Z\",\"x\":{\"k\":[1,2]},\"ok\":true}\n"
                       "\n"
                       "{\"id\":2,\"name\":null,\"ts\":\"2024-05-01T00:00:01.25Z\",\"x\":[],\"ok\":false,\"late\":1.5}\n"
                       "not json\n"
                       "[1,2]\n"
                       "{\"id\":3,\"ts\":null,\"name\":\"c\"}";
    const char *in = write_tmp("a.ndjson", text, strlen(text));
    const char *out = out_path("a.parquet");
    cv_stats st;
    CHECK_MSG(convert(in, out, NULL, &st) == 0, "%s", err);
    CHECK_EQ_INT(st.rows, 3);
    CHECK_EQ_INT(st.rejected, 2);
    CHECK_EQ_INT(st.ncols, 6);
    CHECK_EQ_STR(column_text(out, "id"), "1|2|3");
    CHECK_EQ_STR(column_text(out, "name"), "a\xc3\xa9|null|c");
    CHECK_EQ_STR(column_text(out, "ts"), "1714521600000000|1714521601250000|null");
    CHECK_EQ_STR(column_text(out, "x"), "{\"k\":[1,2]}|[]|null");
    CHECK_EQ_STR(column_text(out, "ok"), "1|0|null");
    CHECK_EQ_STR(column_text(out, "late"), "null|1.5|null");
    char tmp[600];
    snprintf(tmp, sizeof tmp, "%s.tmp-%d", out, (int)getpid());
    CHECK(access(tmp, F_OK) != 0); /* temp file renamed away */
}

TEST(convert_schema_override)
{
    const char *text = "{\"id\":\"7\",\"price\":3,\"d\":\"2024-02-29\",\"extra\":1}\n"
                       "{\"id\":8,\"price\":\"2.5\",\"d\":null}\n"
                       "{\"price\":1}\n"
                       "{\"id\":9.5}\n"
                       "{\"id\":10,\"d\":\"2024-02-30\"}\n"
                       "{\"id\":11,\"flag\":true}\n";
    const char *in = write_tmp("s.ndjson", text, strlen(text));
    const char *out = out_path("s.parquet");
    cv_stats st;
    CHECK_MSG(convert(in, out, "id:int32!,price:float,d:date,flag:string,extra:int64,none:bool", &st) == 0, "%s", err);
    /* rejected: no id (required), 9.5 into int32, bad date */
    CHECK_EQ_INT(st.rejected, 3);
    CHECK_EQ_STR(column_text(out, "id"), "7|8|11");
    CHECK_EQ_STR(column_text(out, "price"), "3|2.5|null");
    CHECK_EQ_STR(column_text(out, "d"), "19782|null|null");
    CHECK_EQ_STR(column_text(out, "flag"), "null|null|true");
    CHECK_EQ_STR(column_text(out, "none"), "null|null|null");
    /* unknown keys reject the record unless ignored */
    CHECK(convert(in, out, "id:int64,price:double,d:date", &st) == 0);
    CHECK_EQ_INT(st.rows, 2); /* extra, flag unknown; 9.5 and a bad date rejected */
    cv_opts o;
    cv_opts_init(&o);
    o.schema = "id:int64,price:double,d:date";
    o.ignore_unknown = 1;
    o.max_report = 0;
    CHECK(cv_convert(in, out, &o, &st, err, sizeof err) == 0);
    CHECK_EQ_INT(st.rows, 4);
    CHECK_EQ_INT(st.rejected, 2);
}

TEST(convert_csv_gzip)
{
    const char *text = "id,name,when,amount,flag,zip\r\n"
                       "1,\"Smith, J\",2024-05-01T00:00:00Z,1.5,true,02134\r\n"
                       "2,,2024-05-01T00:00:01Z,,false,10001\r\n"
                       "3,\"say \"\"hi\"\"\",,7,,\r\n"
                       "4,too,many,fields,x,y,z\r\n";
    unsigned char gz[1024];
    z_stream z = {0};
    deflateInit2(&z, 6, Z_DEFLATED, 15 + 16, 8, Z_DEFAULT_STRATEGY);
    z.next_in = (Bytef *)text;
    z.avail_in = (uInt)strlen(text);
    z.next_out = gz;
    z.avail_out = sizeof gz;
    deflate(&z, Z_FINISH);
    size_t gl = z.total_out;
    deflateEnd(&z);
    const char *in = write_tmp("c.csv.gz", (const char *)gz, gl);
    const char *out = out_path("c.parquet");
    cv_stats st;
    CHECK_MSG(convert(in, out, NULL, &st) == 0, "%s", err);
    CHECK_EQ_INT(st.rows, 3);
    CHECK_EQ_INT(st.rejected, 1);
    CHECK_EQ_STR(column_text(out, "id"), "1|2|3");
    CHECK_EQ_STR(column_text(out, "name"), "Smith, J|null|say \"hi\"");
    CHECK_EQ_STR(column_text(out, "when"), "1714521600000000|1714521601000000|null");
    CHECK_EQ_STR(column_text(out, "amount"), "1.5|null|7");
    CHECK_EQ_STR(column_text(out, "flag"), "1|0|null");
    CHECK_EQ_STR(column_text(out, "zip"), "02134|10001|null");
}

TEST(convert_speculation_fallback)
{
    /* 25000 records with an all-null b and int a, then a record that widens
     * a to double and gives b a value: the result must equal whole-input
     * inference */
    size_t cap = 25000 * 40 + 200, n = 0;
    char *text = malloc(cap);
    for (int i = 0; i < 25000; i++) n += (size_t)snprintf(text + n, cap - n, "{\"a\":%d,\"b\":null}\n", i);
    n += (size_t)snprintf(text + n, cap - n, "{\"a\":0.5,\"b\":\"2024-05-01T00:00:00Z\",\"c\":1}\n{\"a\":1,\"b\" oops}\n");
    const char *in = write_tmp("w.ndjson", text, n);
    free(text);
    const char *out = out_path("w.parquet");
    cv_stats st;
    CHECK_MSG(convert(in, out, NULL, &st) == 0, "%s", err);
    CHECK_EQ_INT(st.rows, 25001);
    CHECK_EQ_INT(st.rejected, 1);
    pq_reader *r = pq_reader_open(out, err, sizeof err);
    CHECK(r != NULL);
    pq_column_info ci;
    pq_reader_column(r, 0, &ci);
    CHECK_EQ_INT(ci.type, PQ_DOUBLE);
    pq_reader_column(r, 1, &ci);
    CHECK_EQ_INT(ci.type, PQ_TIMESTAMP);
    pq_reader_column(r, 2, &ci);
    CHECK_EQ_STR(ci.name, "c");
    CHECK_EQ_INT(ci.type, PQ_INT64);
    pq_reader_destroy(r);
}

TEST(convert_json_array_and_errors)
{
    const char *text = "[\n {\"a\":1},\n {\"a\":\"x\"},\n 5,\n {\"a\":2}\n]\n";
    const char *in = write_tmp("arr.json", text, strlen(text));
    const char *out = out_path("arr.parquet");
    cv_stats st;
    CHECK_MSG(convert(in, out, NULL, &st) == 0, "%s", err);
    CHECK_EQ_INT(st.rows, 3);
    CHECK_EQ_INT(st.rejected, 1);
    CHECK_EQ_STR(column_text(out, "a"), "1|x|2");
    /* empty input: nothing to infer, no file left behind */
    in = write_tmp("empty.ndjson", "", 0);
    unlink(out);
    CHECK(convert(in, out, NULL, &st) == -1);
    CHECK(strstr(err, "no records") != NULL);
    CHECK(access(out, F_OK) != 0);
    CHECK(convert("/nonexistent/x.ndjson", out, NULL, &st) == -1);
    CHECK(strstr(err, "/nonexistent/x.ndjson") != NULL);
}

typedef struct reports {
    int rejects, progress, done, logged;
    char first[256];
} reports;

static void rep_reject(const char *in, int64_t line, const char *why, void *arg)
{
    reports *r = arg;
    if (!r->rejects++) snprintf(r->first, sizeof r->first, "%s:%lld: %s", in, (long long)line, why);
}

static void rep_progress(const cv_progress *p, void *arg)
{
    reports *r = arg;
    r->progress++;
    r->done += p->done;
}

static void rep_log(lg_level level, const char *component, const char *msg, void *arg)
{
    reports *r = arg;
    if (level == LG_WARN && !strcmp(component, "convert")) {
        r->logged++;
        snprintf(r->first, sizeof r->first, "%s", msg);
    }
}

/* The library draws nothing: rejects and progress go to the caller's
 * callbacks (src/cli draws the terminal line), rejects are logged when
 * there is no callback. */
TEST(convert_reports_to_callbacks)
{
    const char *text = "{\"id\":1}\nnot json\n{\"id\":2}\n[3]\n";
    const char *in = write_tmp("r.ndjson", text, strlen(text));
    const char *out = out_path("r.parquet");
    cv_opts o;
    cv_opts_init(&o);
    reports r = {0};
    o.on_reject = rep_reject;
    o.on_progress = rep_progress;
    o.report_arg = &r;
    o.max_report = 1;
    cv_stats st;
    CHECK_MSG(cv_convert(in, out, &o, &st, err, sizeof err) == 0, "%s", err);
    CHECK_EQ_INT(st.rejected, 2);
    CHECK_EQ_INT(r.rejects, 1); /* max_report */
    CHECK(strstr(r.first, "r.ndjson:2: "));
    CHECK(r.done >= 1 && r.done == r.progress); /* small input: only the end of each pass */
    reports l = {0};
    lg_set_sink(rep_log, &l);
    cv_opts_init(&o);
    CHECK(cv_convert(in, out, &o, &st, err, sizeof err) == 0);
    lg_set_sink(NULL, NULL);
    CHECK_EQ_INT(l.logged, 2);
    CHECK(strstr(l.first, "r.ndjson:4: "));
}
