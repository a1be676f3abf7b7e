/* The SQL engine every entry point uses: the lake in the runtime's store
 * and catalog, the journal tail placed by each stream's event-time settings
 * (the same the sinks use), and the config's PostgreSQL, MySQL and SQLite
 * attachments. */
#include "myfed/myfed.h"
#include "pgfed/pgfed.h"
#include "log/log.h"
#include "runtime/rt_int.h"

#include <stdatomic.h>
#include <stdlib.h>
#include <time.h>

void rt__sql_init(rt_runtime *rt)
{
    const cf_config *cf = rt->cf;
    rt->tails = ut_calloc((size_t)cf->nstreams + 1, sizeof *rt->tails);
    for (int i = 0; i < cf->nstreams; i++) { /* pointers into cf, which outlives rt */
        rt->tails[i].stream = cf->streams[i].name;
        rt->tails[i].event_time_field = cf->streams[i].sink.event_time_field;
        rt->tails[i].time_format = (int)cf->streams[i].sink.event_time_format;
        rt->tails[i].case_insensitive = cf->streams[i].sink.case_insensitive;
    }
    rt->ntails = cf->nstreams;
}

void rt__sql_free(rt_runtime *rt)
{
    free(rt->tails);
    rt->tails = NULL;
}

/* A connection left out of SQL, said at most once a minute per kind (every
 * query opens an engine). */
static void warn_left_out(atomic_llong *last, const char *msg)
{
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    long long now = (long long)ts.tv_sec, was = atomic_load(last);
    if (was && now - was < 60) return;
    if (!atomic_compare_exchange_strong(last, &was, now)) return;
    lg_warn("runtime", "sql: %s (its tables are left out of SQL until it answers)", msg);
}

static int attach(sq_engine *e, const cf_config *cf, char *err, size_t errlen)
{
    static atomic_llong pg_said, my_said;
    char m[1024];
    if (pgf_attach_config(sq_db(e), cf, m, sizeof m)) /* pg.users, ...: one down is left out */
        warn_left_out(&pg_said, m);
    if (myf_attach_config(sq_db(e), cf, m, sizeof m)) /* shop.users, ... */
        warn_left_out(&my_said, m);
    for (int i = 0; i < cf->nsqlite; i++) /* SQLite files: <name>.<table> */
        if (sq_attach_sqlite(e, cf->sqlite[i].name, cf->sqlite[i].path, err, errlen)) return -1;
    return 0;
}

sq_engine *rt_sql_open(rt_runtime *rt, const rt_sql_req *q, char *err, size_t errlen)
{
    sq_opts o = {0};
    o.data_dir = rt->data_dir;
    o.store = rt->store;
    o.read_only = q->read_only;
    o.no_tail = q->no_tail;
    o.agg_path = q->agg_path;
    o.exact_decimals = q->exact_decimals;
    o.threads = (int)rt->cf->sql.threads;
    const char *ev = getenv("SLUICE_SQL_PATH");
    if (!o.agg_path && ev && sq_path_parse(ev, &o.agg_path))
        lg_warn("sql", "SLUICE_SQL_PATH wants auto|fast|sqlite, got '%s' (auto)", ev);
    o.no_files = q->no_files;
    o.timeout_ms = q->timeout_ms;
    o.memory_limit = q->memory_limit;
    o.tails = rt->tails;
    o.ntails = rt->ntails;
    sq_engine *e = sq_open(&o, err, errlen);
    if (e && attach(e, rt->cf, err, errlen)) {
        sq_close(e);
        return NULL;
    }
    return e;
}
