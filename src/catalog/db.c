/* catalog: opening the SQLite file, schema migrations, the per-connection
 * statement cache and transaction helpers.
 *
 * Durability: WAL journal with synchronous=FULL, so a COMMIT has reached
 * the disk (the WAL is fsynced) when sqlite3_step returns — ct_commit's
 * promise.  busy_timeout makes concurrent writers (server threads, a CLI)
 * wait for each other instead of failing; writes take the lock up front
 * (BEGIN IMMEDIATE) so a transaction never has to upgrade a read lock and
 * deadlock.
 *
 * Migrations: PRAGMA user_version is the schema version; migrations[i]
 * brings a catalog from version i to i + 1 and is recorded in
 * schema_migrations.  They run in one BEGIN IMMEDIATE transaction that
 * re-reads user_version, so two processes opening a new file at once
 * migrate it exactly once.  A file from a newer sluice is refused. */
#include "catalog/ct_int.h"
#include "util/util.h"

#include <assert.h>
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>
#include <time.h>

#define CT_APP_ID 0x736c6369 /* "slci": marks a sluice catalog file */
#define CT_BUSY_MS 10000

/* Schema versions.  Append only: never edit a migration that shipped. */
static const char *const migrations[] = {
    /* v1 */
    "CREATE TABLE schema_migrations(version INTEGER PRIMARY KEY, applied_ms INTEGER NOT NULL);"
    "CREATE TABLE tables("
    "  id INTEGER PRIMARY KEY,"
    "  name TEXT NOT NULL UNIQUE,"
    "  location TEXT NOT NULL,"
    "  partition_cols TEXT NOT NULL DEFAULT '',"
    "  stream TEXT NOT NULL DEFAULT '',"
    "  created_ms INTEGER NOT NULL,"
    "  version INTEGER NOT NULL DEFAULT 0);"
    "CREATE TABLE columns("
    "  table_id INTEGER NOT NULL REFERENCES tables(id) ON DELETE CASCADE,"
    "  ordinal INTEGER NOT NULL,"
    "  name TEXT NOT NULL,"
    "  type TEXT NOT NULL,"
    "  added_version INTEGER NOT NULL,"
    "  PRIMARY KEY(table_id, ordinal));"
    "CREATE TABLE schema_versions("
    "  table_id INTEGER NOT NULL REFERENCES tables(id) ON DELETE CASCADE,"
    "  version INTEGER NOT NULL,"
    "  created_ms INTEGER NOT NULL,"
    "  change TEXT NOT NULL,"
    "  ncols INTEGER NOT NULL,"
    "  columns_json TEXT NOT NULL,"
    "  PRIMARY KEY(table_id, version));"
    /* A path is unique per table over live AND trashed files: a trashed
     * file's object is about to be deleted from storage, so committing the
     * same path again would lose the new file. */
    "CREATE TABLE files("
    "  id INTEGER PRIMARY KEY,"
    "  table_id INTEGER NOT NULL REFERENCES tables(id) ON DELETE CASCADE,"
    "  path TEXT NOT NULL,"
    "  partition TEXT NOT NULL,"
    "  rows INTEGER NOT NULL,"
    "  bytes INTEGER NOT NULL,"
    "  schema_version INTEGER NOT NULL,"
    "  created_ms INTEGER NOT NULL,"
    "  min_offset INTEGER NOT NULL DEFAULT -1,"
    "  max_offset INTEGER NOT NULL DEFAULT -1,"
    "  state TEXT NOT NULL DEFAULT 'live' CHECK(state IN ('live', 'trash')),"
    "  removed_ms INTEGER,"
    "  UNIQUE(table_id, path));"
    "CREATE INDEX files_live ON files(table_id, partition, id) WHERE state = 'live';"
    "CREATE INDEX files_trash ON files(id) WHERE state = 'trash';"
    "CREATE TABLE file_stats("
    "  file_id INTEGER NOT NULL REFERENCES files(id) ON DELETE CASCADE,"
    "  ordinal INTEGER NOT NULL,"
    "  name TEXT NOT NULL,"
    "  has_minmax INTEGER NOT NULL,"
    "  min TEXT,"
    "  max TEXT,"
    "  nulls INTEGER NOT NULL,"
    "  PRIMARY KEY(file_id, ordinal));"
    "CREATE TABLE positions("
    "  stream TEXT NOT NULL,"
    "  table_id INTEGER NOT NULL REFERENCES tables(id) ON DELETE CASCADE,"
    "  next_offset INTEGER NOT NULL,"
    "  updated_ms INTEGER NOT NULL,"
    "  PRIMARY KEY(stream, table_id));",
    /* v2: job runs (runs.c).  One row per run of (job, window); a retry is
     * the same run with attempt + 1, a forced or lookback re-run a new row.
     * deliveries counts the queue deliveries of the current attempt and is
     * the fencing token of ct_run_finish. */
    "CREATE TABLE runs("
    "  id INTEGER PRIMARY KEY,"
    "  job TEXT NOT NULL,"
    "  window_start INTEGER NOT NULL,"
    "  window_end INTEGER NOT NULL,"
    "  state TEXT NOT NULL,"
    "  attempt INTEGER NOT NULL DEFAULT 1,"
    "  deliveries INTEGER NOT NULL DEFAULT 0,"
    "  trigger TEXT NOT NULL,"
    "  backfill TEXT NOT NULL DEFAULT '',"
    "  iterations INTEGER NOT NULL DEFAULT 1,"
    "  forced INTEGER NOT NULL DEFAULT 0,"
    "  worker TEXT NOT NULL DEFAULT '',"
    "  created_ms INTEGER NOT NULL,"
    "  due_ms INTEGER NOT NULL,"
    "  started_ms INTEGER NOT NULL DEFAULT 0,"
    "  finished_ms INTEGER NOT NULL DEFAULT 0,"
    "  rows INTEGER NOT NULL DEFAULT 0,"
    "  bytes INTEGER NOT NULL DEFAULT 0,"
    "  task INTEGER NOT NULL DEFAULT -1,"
    "  error TEXT NOT NULL DEFAULT '');"
    "CREATE INDEX runs_job ON runs(job, window_start, id);"
    "CREATE INDEX runs_open ON runs(state, due_ms) WHERE state IN "
    "  ('waiting', 'queued', 'running', 'retrying');"
    "CREATE TABLE run_io("
    "  run_id INTEGER NOT NULL REFERENCES runs(id) ON DELETE CASCADE,"
    "  io TEXT NOT NULL CHECK(io IN ('read', 'write')),"
    "  tbl TEXT NOT NULL,"
    "  partition TEXT NOT NULL DEFAULT '',"
    "  PRIMARY KEY(run_id, io, tbl, partition));"
    "CREATE TABLE job_state("
    "  job TEXT PRIMARY KEY,"
    "  last_fire INTEGER NOT NULL,"
    "  updated_ms INTEGER NOT NULL);"
    "CREATE TABLE backfills("
    "  name TEXT PRIMARY KEY,"
    "  job TEXT NOT NULL,"
    "  window_from INTEGER NOT NULL,"
    "  window_to INTEGER NOT NULL,"
    "  parallel INTEGER NOT NULL,"
    "  created_ms INTEGER NOT NULL);",
    /* v3: the runs spanning several windows (serial backfills), so that the
     * run covering a window is found by two index seeks (S_RUN_LATEST), not
     * by a walk over every earlier run of the job */
    "CREATE INDEX runs_span ON runs(job, window_start) WHERE iterations > 1;",
    /* v4: a job's runs per account (jobs.<name>.accounts): part is the
     * account id, "" for jobs without accounts; the window lookups key on it */
    "ALTER TABLE runs ADD COLUMN part TEXT NOT NULL DEFAULT '';"
    "DROP INDEX runs_span;"
    "CREATE INDEX runs_part ON runs(job, part, window_start, id);"
    "CREATE INDEX runs_part_span ON runs(job, part, window_start) WHERE iterations > 1;",
    /* v5: the accounts a job's `accounts.sql` found at its last look, with
     * their other columns (a JSON object) for the templates */
    "CREATE TABLE job_accounts("
    "  job TEXT NOT NULL,"
    "  account TEXT NOT NULL,"
    "  args TEXT NOT NULL,"
    "  updated_ms INTEGER NOT NULL,"
    "  PRIMARY KEY(job, account));",
    /* v6: the outbox of records to append to streams once their run has
     * committed (a collect run's files on <job>.files): written in the
     * run's commit, delivered by the server, sent_offset set after */
    "CREATE TABLE outbox("
    "  id INTEGER PRIMARY KEY AUTOINCREMENT,"
    "  stream TEXT NOT NULL,"
    "  record TEXT NOT NULL,"
    "  run_id INTEGER NOT NULL,"
    "  created_ms INTEGER NOT NULL,"
    "  sent_offset INTEGER,"
    "  sent_ms INTEGER);"
    "CREATE INDEX outbox_pending ON outbox(id) WHERE sent_offset IS NULL;"
    "CREATE INDEX outbox_sent ON outbox(stream, sent_offset) WHERE sent_offset IS NOT NULL;",
    /* v7: what a job keeps per part (a snapshot's source table) between runs,
     * written in the commit of the run that set it: an incremental read's
     * cursor (the largest value its committed files hold) and the source's
     * columns as the run saw them (JSON), to tell the next run what changed */
    "CREATE TABLE part_state("
    "  job TEXT NOT NULL,"
    "  part TEXT NOT NULL,"
    "  cursor TEXT,"
    "  source_schema TEXT,"
    "  run_id INTEGER NOT NULL,"
    "  updated_ms INTEGER NOT NULL,"
    "  PRIMARY KEY(job, part));",
    /* v8: views (views.c): a name over one lake table, owned by the job that
     * keeps it (a snapshot's merge view: the latest row per key), written in
     * the commit of that job's run; names are compared without case, among
     * views and against tables */
    "CREATE TABLE views("
    "  name TEXT NOT NULL PRIMARY KEY COLLATE NOCASE,"
    "  base TEXT NOT NULL,"
    "  job TEXT NOT NULL,"
    "  key_json TEXT NOT NULL,"
    "  order_col TEXT NOT NULL,"
    "  sql TEXT NOT NULL,"
    "  created_ms INTEGER NOT NULL,"
    "  updated_ms INTEGER NOT NULL);",
    /* v9: load history (kind load): the lake files (catalog file ids) each
     * successful load of a (job, window) sent to the warehouse */
    "CREATE TABLE load_history("
    "  id INTEGER PRIMARY KEY AUTOINCREMENT,"
    "  job TEXT NOT NULL,"
    "  window_start INTEGER NOT NULL,"
    "  run_id INTEGER NOT NULL,"
    "  files TEXT NOT NULL,"
    "  loaded_ms INTEGER NOT NULL);"
    "CREATE INDEX load_history_window ON load_history(job, window_start, id);",
    /* v10: the console's objects (console.c): saved queries and dashboards,
     * each a name and a JSON spec the server validated; version counts the
     * writes (an update names the version it read: optimistic locking) */
    "CREATE TABLE saved_queries("
    "  id INTEGER PRIMARY KEY AUTOINCREMENT,"
    "  name TEXT NOT NULL,"
    "  spec TEXT NOT NULL,"
    "  version INTEGER NOT NULL,"
    "  created_ms INTEGER NOT NULL,"
    "  updated_ms INTEGER NOT NULL);"
    "CREATE TABLE dashboards("
    "  id INTEGER PRIMARY KEY AUTOINCREMENT,"
    "  name TEXT NOT NULL,"
    "  spec TEXT NOT NULL,"
    "  version INTEGER NOT NULL,"
    "  created_ms INTEGER NOT NULL,"
    "  updated_ms INTEGER NOT NULL);",
    /* v11: the log of each attempt of a run (what the task's thread logged and
     * a command printed, capped), the last CT_RUN_LOGS_KEPT of a job kept */
    "CREATE TABLE run_logs("
    "  run_id INTEGER NOT NULL REFERENCES runs(id) ON DELETE CASCADE,"
    "  attempt INTEGER NOT NULL,"
    "  job TEXT NOT NULL,"
    "  created_ms INTEGER NOT NULL,"
    "  text TEXT NOT NULL,"
    "  PRIMARY KEY(run_id, attempt));"
    "CREATE INDEX run_logs_job ON run_logs(job, run_id);",
    /* v12: failed and dead runs by when they finished (the built-in
     * job_failures alert pages through them from its cursor) */
    "CREATE INDEX runs_failed_finished ON runs(finished_ms, id) WHERE state IN ('failed', 'dead');",
};
#define NMIGRATIONS ((int)(sizeof migrations / sizeof migrations[0]))

#define FILE_COLS                                                                           \
    "id, path, partition, rows, bytes, schema_version, created_ms, min_offset, max_offset, " \
    "table_id"

#define VIEW_COLS "name, base, job, key_json, order_col, sql, created_ms, updated_ms"

#define RUN_COLS                                                                            \
    "id, job, window_start, window_end, state, attempt, deliveries, trigger, backfill, "      \
    "iterations, forced, worker, created_ms, due_ms, started_ms, finished_ms, rows, bytes, "  \
    "task, error, part"

/* Statement texts, indexed by the S_ enum in ct_int.h. */
static const char *const ct_sql[S__COUNT] = {
    [S_BEGIN_IMM] = "BEGIN IMMEDIATE",
    [S_BEGIN] = "BEGIN",
    [S_COMMIT] = "COMMIT",
    [S_ROLLBACK] = "ROLLBACK",
    [S_TABLE_INSERT] = "INSERT INTO tables(name, location, partition_cols, stream, created_ms) "
                       "VALUES(?1, ?2, ?3, ?4, ?5) ON CONFLICT(name) DO NOTHING",
    [S_TABLE_BY_NAME] = "SELECT id, name, location, partition_cols, stream, created_ms, version "
                        "FROM tables WHERE name = ?1",
    [S_TABLE_BY_ID] = "SELECT id, name, location, partition_cols, stream, created_ms, version "
                      "FROM tables WHERE id = ?1",
    [S_TABLE_NAMES] = "SELECT name FROM tables ORDER BY name",
    [S_VIEW_PUT] = "INSERT INTO views(name, base, job, key_json, order_col, sql, created_ms, "
                   "updated_ms) VALUES(?1, ?2, ?3, ?4, ?5, ?6, ?7, ?7) ON CONFLICT(name) DO "
                   "UPDATE SET name = excluded.name, key_json = excluded.key_json, order_col = "
                   "excluded.order_col, sql = excluded.sql, updated_ms = excluded.updated_ms",
    [S_VIEW_GET] = "SELECT " VIEW_COLS " FROM views WHERE name = ?1",
    [S_VIEWS_ALL] = "SELECT " VIEW_COLS " FROM views ORDER BY name COLLATE BINARY",
    [S_VIEW_DROP_OTHERS] = "DELETE FROM views WHERE job = ?1 AND base = ?2 AND name <> ?3",
    [S_VIEW_KEYS] = "SELECT value FROM json_each(?1) ORDER BY key",
    [S_VIEW_NAME_NOCASE] = "SELECT name FROM views WHERE name = ?1 LIMIT 1",
    [S_TABLE_NAME_NOCASE] = "SELECT name FROM tables WHERE name = ?1 COLLATE NOCASE AND name <> ?1 "
                            "LIMIT 1",
    [S_VERSIONS_JSON] = "SELECT version, columns_json FROM schema_versions WHERE table_id = ?1 "
                        "ORDER BY version",
    [S_VERSION_COLUMNS] = "SELECT json_extract(j.value, '$.name'), json_extract(j.value, '$.type') "
                          "FROM schema_versions v, json_each(v.columns_json) j "
                          "WHERE v.table_id = ?1 AND v.version = ?2",
    [S_TABLE_SET_VERSION] = "UPDATE tables SET version = ?2 WHERE id = ?1",
    [S_COLS_OF] = "SELECT name, type, added_version FROM columns WHERE table_id = ?1 "
                  "ORDER BY ordinal",
    [S_COLS_DELETE] = "DELETE FROM columns WHERE table_id = ?1",
    [S_COL_INSERT] = "INSERT INTO columns(table_id, ordinal, name, type, added_version) "
                     "VALUES(?1, ?2, ?3, ?4, ?5)",
    [S_VERSION_NOTE] = "INSERT INTO schema_versions(table_id, version, created_ms, change, ncols, "
                       "columns_json) SELECT t.id, t.version + 1, ?3, ?2, v.ncols, "
                       "v.columns_json FROM tables t JOIN schema_versions v ON v.table_id = t.id "
                       "AND v.version = t.version WHERE t.id = ?1",
    [S_TABLE_VERSION_BUMP] = "UPDATE tables SET version = version + 1 WHERE id = ?1",
    [S_VERSION_INSERT] = "INSERT INTO schema_versions(table_id, version, created_ms, change, "
                         "ncols, columns_json) VALUES(?1, ?2, ?3, ?4, ?5, ?6)",
    [S_VERSIONS_OF] = "SELECT version, created_ms, change, ncols FROM schema_versions "
                      "WHERE table_id = ?1 ORDER BY version",
    [S_VERSIONS_RECENT] = "SELECT t.name, v.version, v.created_ms, v.change, v.ncols "
                          "FROM schema_versions v JOIN tables t ON t.id = v.table_id "
                          "WHERE v.version > 1 ORDER BY v.created_ms DESC, t.name, v.version DESC "
                          "LIMIT ?1",
    [S_FILE_INSERT] = "INSERT INTO files(table_id, path, partition, rows, bytes, schema_version, "
                      "created_ms, min_offset, max_offset) VALUES(?1, ?2, ?3, ?4, ?5, ?6, ?7, ?8, ?9)",
    [S_FILE_FIND_PATH] = "SELECT id, state FROM files WHERE table_id = ?1 AND path = ?2",
    [S_STAT_INSERT] = "INSERT INTO file_stats(file_id, ordinal, name, has_minmax, min, max, nulls) "
                      "VALUES(?1, ?2, ?3, ?4, ?5, ?6, ?7)",
    [S_FILES_OF] = "SELECT " FILE_COLS " FROM files WHERE table_id = ?1 AND state = 'live' "
                   "ORDER BY partition, id",
    [S_FILES_PREFIX] = "SELECT " FILE_COLS " FROM files WHERE table_id = ?1 AND state = 'live' "
                       "AND partition >= ?2 AND substr(partition, 1, length(?2)) = ?2 "
                       "ORDER BY partition, id",
    [S_STATS_OF] = "SELECT name, has_minmax, min, max, nulls FROM file_stats WHERE file_id = ?1 "
                   "ORDER BY ordinal",
    [S_FILE_TRASH] = "UPDATE files SET state = 'trash', removed_ms = ?3 "
                     "WHERE id = ?1 AND table_id = ?2 AND state = 'live'",
    [S_FILE_STATE] = "SELECT state, table_id FROM files WHERE id = ?1",
    [S_TRASH_DUE] = "SELECT " FILE_COLS " FROM files WHERE state = 'trash' "
                    "AND coalesce(removed_ms, 0) < ?1 ORDER BY id",
    [S_FILE_FORGET] = "DELETE FROM files WHERE id = ?1 AND state = 'trash'",
    [S_FILE_LIVE] = "SELECT 1 FROM files WHERE table_id = ?1 AND path = ?2 AND state = 'live'",
    [S_POS_GET] = "SELECT next_offset FROM positions WHERE stream = ?1 AND table_id = ?2",
    [S_POS_SET] = "INSERT INTO positions(stream, table_id, next_offset, updated_ms) "
                  "VALUES(?1, ?2, ?3, ?4) ON CONFLICT(stream, table_id) DO UPDATE SET "
                  "next_offset = excluded.next_offset, updated_ms = excluded.updated_ms",
    [S_TABLE_STATS] = "SELECT count(*), coalesce(sum(rows), 0), coalesce(sum(bytes), 0), "
                      "count(DISTINCT partition), min(partition), max(partition), "
                      "coalesce(max(created_ms), 0) FROM files WHERE table_id = ?1 AND state = 'live'",
    [S_RUN_INSERT] = "INSERT INTO runs(job, window_start, window_end, state, attempt, trigger, "
                     "backfill, iterations, forced, created_ms, due_ms, task, part) "
                     "VALUES(?1, ?2, ?3, ?4, ?5, ?6, ?7, ?8, ?9, ?10, ?11, ?12, ?13)",
    [S_RUN_GET] = "SELECT " RUN_COLS " FROM runs WHERE id = ?1",
    [S_RUN_LIST] = "SELECT " RUN_COLS " FROM runs WHERE (?1 IS NULL OR job = ?1) "
                   "AND (?2 IS NULL OR state IN (SELECT value FROM json_each(?2))) "
                   "AND (?3 = 0 OR window_start >= ?3) AND (?4 = 0 OR window_start < ?4) "
                   "AND (?5 IS NULL OR backfill = ?5) AND (?8 = 0 OR (?8 = 2) = (backfill <> '')) "
                   "ORDER BY CASE WHEN ?6 THEN window_start END, "
                   "CASE WHEN ?6 THEN id END, id DESC LIMIT ?7",
    /* runs of that window; serial runs spanning it (runs_part_span); the run
     * starting nearest before it, when its window reaches past (a window
     * the config has made finer since: a day's run covers its hours) */
    [S_RUN_LATEST] = "SELECT " RUN_COLS " FROM runs WHERE id = (SELECT max(id) FROM ("
                     "SELECT max(id) AS id FROM runs WHERE job = ?1 AND part = ?3 AND window_start = ?2 "
                     "UNION ALL SELECT max(id) FROM runs WHERE job = ?1 AND part = ?3 AND "
                     "iterations > 1 AND window_start <= ?2 AND window_end > ?2 "
                     "UNION ALL SELECT max(id) FROM runs WHERE job = ?1 AND part = ?3 AND "
                     "window_end > ?2 AND window_start = (SELECT max(window_start) FROM runs "
                     "WHERE job = ?1 AND part = ?3 AND window_start < ?2)))",
    [S_RUN_ACTIVE] = "SELECT count(*) FROM runs WHERE job = ?1 AND state IN "
                     "('waiting', 'queued', 'running', 'retrying')",
    /* the open-run index (runs_open) is used only when a query repeats its
     * WHERE term word for word: S_RUN_DUE and S_RUN_OUT do */
    [S_RUN_DUE] = "SELECT " RUN_COLS " FROM runs WHERE state IN "
                  "('waiting', 'queued', 'running', 'retrying') AND state IN ('waiting', "
                  "'retrying') AND due_ms <= ?1 AND (backfill <> '') = ?2 "
                  "ORDER BY window_start, id LIMIT ?3",
    /* the same, each job's oldest first and the jobs in turns (by rank), so
     * that one job's backlog over the limit (a catch-up) hides no other's */
    [S_RUN_DUE_JOBS] = "SELECT " RUN_COLS " FROM (SELECT rid, k, ws FROM (SELECT id AS rid, "
                       "window_start AS ws, row_number() OVER (PARTITION BY job "
                       "ORDER BY window_start, id) AS k FROM runs WHERE state IN "
                       "('waiting', 'queued', 'running', 'retrying') AND state IN ('waiting', "
                       "'retrying') AND due_ms <= ?1 AND (backfill <> '') = ?2) "
                       "ORDER BY k, ws, rid LIMIT ?3) JOIN runs ON id = rid ORDER BY k, ws, rid",
    [S_RUN_OUT] = "SELECT job, backfill, count(*) FROM runs WHERE state IN "
                  "('waiting', 'queued', 'running', 'retrying') AND state IN ('queued', "
                  "'running') GROUP BY job, backfill",
    [S_OUTBOX_ADD] = "INSERT INTO outbox(stream, record, run_id, created_ms) VALUES (?1, ?2, ?3, ?4)",
    [S_OUTBOX_PENDING] = "SELECT id, stream, record FROM outbox WHERE sent_offset IS NULL "
                         "AND stream NOT IN (SELECT value FROM json_each(?2)) ORDER BY id "
                         "LIMIT ?1",
    [S_OUTBOX_GET] = "SELECT stream, record FROM outbox WHERE id = ?1 AND sent_offset IS NULL",
    [S_OUTBOX_SENT] = "UPDATE outbox SET sent_offset = ?2, sent_ms = ?3 WHERE id = ?1 "
                      "AND sent_offset IS NULL",
    [S_OUTBOX_LAST] = "SELECT max(sent_offset) FROM outbox WHERE stream = ?1 "
                      "AND sent_offset IS NOT NULL",
    [S_OUTBOX_PRUNE] = "DELETE FROM outbox WHERE sent_offset IS NOT NULL AND sent_ms < ?1",
    [S_PART_STATE_SET] = "INSERT INTO part_state(job, part, cursor, source_schema, run_id, "
                         "updated_ms) SELECT job, part, ?2, ?3, id, ?4 FROM runs WHERE id = ?1 "
                         "ON CONFLICT(job, part) DO UPDATE SET cursor = coalesce(excluded.cursor, "
                         "cursor), source_schema = coalesce(excluded.source_schema, "
                         "source_schema), run_id = excluded.run_id, updated_ms = "
                         "excluded.updated_ms WHERE ?5 IS NULL OR part_state.cursor IS "
                         "nullif(?5, '')",
    [S_PART_STATE_GET] = "SELECT cursor, source_schema FROM part_state WHERE job = ?1 AND "
                         "part = ?2",
    [S_ACCOUNTS_DEL] = "DELETE FROM job_accounts WHERE job = ?1",
    [S_ACCOUNTS_INS] = "INSERT INTO job_accounts(job, account, args, updated_ms) "
                       "VALUES(?1, ?2, ?3, ?4)",
    [S_ACCOUNTS_OF] = "SELECT account FROM job_accounts WHERE job = ?1 ORDER BY account",
    [S_ACCOUNT_ARGS] = "SELECT args FROM job_accounts WHERE job = ?1 AND account = ?2",
    [S_RUN_QUEUE] = "UPDATE runs SET state = 'queued', task = ?2, deliveries = 0 "
                    "WHERE id = ?1 AND state IN ('waiting', 'retrying')",
    [S_RUN_START] = "UPDATE runs SET state = 'running', deliveries = ?3, worker = ?4, "
                    "started_ms = ?5 WHERE id = ?1 AND task = ?2 AND deliveries < ?3 "
                    "AND state IN ('queued', 'running')",
    [S_RUN_FINISH] = "UPDATE runs SET state = ?4, due_ms = CASE WHEN ?5 > 0 THEN ?5 ELSE due_ms "
                     "END, rows = ?6, bytes = ?7, error = ?8, finished_ms = ?9, "
                     "attempt = attempt + (?4 = 'retrying') "
                     "WHERE id = ?1 AND task = ?2 AND deliveries = ?3 AND state = 'running'",
    [S_RUN_IO_INSERT] = "INSERT OR IGNORE INTO run_io(run_id, io, tbl, partition) "
                        "VALUES(?1, ?2, ?3, ?4)",
    [S_RUN_IO_OF] = "SELECT tbl, partition, io = 'write' FROM run_io WHERE run_id = ?1 "
                    "ORDER BY io, tbl, partition",
    [S_RUN_DEAD] = "UPDATE runs SET state = 'dead', error = ?2, finished_ms = ?3 "
                   "WHERE task = ?1 AND state IN ('queued', 'running')",
    [S_RUN_FAIL] = "UPDATE runs SET state = 'failed', error = ?2, finished_ms = ?3 "
                   "WHERE id = ?1 AND state IN ('waiting', 'queued', 'retrying')",
    [S_JOB_FIRE_GET] = "SELECT last_fire FROM job_state WHERE job = ?1",
    [S_JOB_FIRE_SET] = "INSERT INTO job_state(job, last_fire, updated_ms) VALUES(?1, ?2, ?3) "
                       "ON CONFLICT(job) DO UPDATE SET last_fire = excluded.last_fire, "
                       "updated_ms = excluded.updated_ms",
    [S_BACKFILL_INSERT] = "INSERT INTO backfills(name, job, window_from, window_to, parallel, "
                          "created_ms) VALUES(?1, ?2, ?3, ?4, ?5, ?6) ON CONFLICT(name) DO NOTHING",
    [S_BACKFILL_GET] = "SELECT parallel FROM backfills WHERE name = ?1",
    [S_RUN_LAST_WRITER] = "SELECT " RUN_COLS " FROM runs WHERE id = (SELECT max(run_id) FROM "
                          "run_io WHERE tbl = ?1 COLLATE NOCASE AND io = 'write')",
    [S_RUN_REQUEUE] = "UPDATE runs SET state = 'queued', task = ?4, deliveries = 0 WHERE id = ?1 "
                      "AND task = ?2 AND deliveries = ?3 AND state = 'running'",
    [S_RUNS_FAILED_SINCE] = "SELECT " RUN_COLS " FROM runs WHERE state IN ('failed', 'dead') "
                            "AND finished_ms >= ?1 AND (finished_ms > ?2 OR (finished_ms = ?2 "
                            "AND id > ?3)) ORDER BY finished_ms, id LIMIT ?4",
    [S_RUN_LOG_PUT] = "INSERT OR REPLACE INTO run_logs(run_id, attempt, job, created_ms, text) "
                      "VALUES(?1, ?2, ?3, ?4, ?5)",
    /* by write order (rowid: INSERT OR REPLACE gives a new one), not run id:
     * an old run's late attempt is the newest log, not the first to go */
    [S_RUN_LOG_PRUNE] = "DELETE FROM run_logs WHERE job = ?1 AND rowid < (SELECT rowid FROM "
                        "run_logs WHERE job = ?1 ORDER BY rowid DESC LIMIT 1 OFFSET ?2)",
    [S_RUN_LOG_GET] = "SELECT attempt, created_ms, text FROM run_logs WHERE run_id = ?1 "
                      "ORDER BY attempt",
    [S_RUN_COUNTS] = "SELECT job, state, count(*) FROM runs GROUP BY job, state ORDER BY job, state",
};

int64_t ct_now_ms(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_REALTIME, &ts);
    return (int64_t)ts.tv_sec * 1000 + ts.tv_nsec / 1000000;
}

int ct_sqlerr(ct_catalog *c, const char *what, char *err, size_t errlen)
{
    int code = sqlite3_extended_errcode(c->db);
    if ((code & 0xff) == SQLITE_BUSY || (code & 0xff) == SQLITE_LOCKED)
        return ut_err(err, errlen, "catalog %s: %s: busy (another writer held the lock for %d s)",
                      c->path, what, CT_BUSY_MS / 1000);
    return ut_err(err, errlen, "catalog %s: %s: %s", c->path, what, sqlite3_errmsg(c->db));
}

sqlite3_stmt *ct_stmt(ct_catalog *c, int id, char *err, size_t errlen)
{
    assert(c && id >= 0 && id < S__COUNT);
    sqlite3_stmt *s = c->st[id];
    if (!s) {
        if (sqlite3_prepare_v3(c->db, ct_sql[id], -1, SQLITE_PREPARE_PERSISTENT, &s, NULL) !=
            SQLITE_OK) {
            ct_sqlerr(c, "prepare", err, errlen);
            return NULL;
        }
        c->st[id] = s;
        return s;
    }
    sqlite3_reset(s);
    sqlite3_clear_bindings(s);
    return s;
}

void ct_done(sqlite3_stmt *s)
{
    if (s) sqlite3_reset(s);
}

int ct_exec(ct_catalog *c, int id, const char *what, char *err, size_t errlen)
{
    sqlite3_stmt *s = ct_stmt(c, id, err, errlen);
    if (!s) return -1;
    int rc = sqlite3_step(s);
    ct_done(s);
    if (rc != SQLITE_DONE) return ct_sqlerr(c, what, err, errlen);
    return 0;
}

static void tx_unlock(ct_catalog *c);

/* Writers of this process queue on one mutex before they ask SQLite for
 * its write lock: waiting on SQLite means polling (busy_wait), this means
 * being woken when the writer before is done.  Recursive, as a write
 * statement may run inside a write transaction; timed, so that a stuck
 * writer ends in SQLite's busy error as before, not in a hang.  Other
 * processes still meet on SQLite's lock. */
static pthread_mutex_t wmu;
static pthread_once_t wmu_once = PTHREAD_ONCE_INIT;

static void wmu_init(void)
{
    pthread_mutexattr_t a;
    pthread_mutexattr_init(&a);
    pthread_mutexattr_settype(&a, PTHREAD_MUTEX_RECURSIVE);
    pthread_mutex_init(&wmu, &a);
    pthread_mutexattr_destroy(&a);
}

void ct__wlock(ct_catalog *c)
{
    /* A transaction begun without wmu (its timed lock gave up) holds
     * SQLite's write lock: waiting for wmu now would wait for a writer that
     * waits for this one (both until CT_BUSY_MS, the other failing busy). */
    if (!c->wlocks && !sqlite3_get_autocommit(c->db)) return;
    pthread_once(&wmu_once, wmu_init);
    struct timespec ts;
    clock_gettime(CLOCK_REALTIME, &ts);
    ts.tv_sec += CT_BUSY_MS / 1000;
    if (pthread_mutex_timedlock(&wmu, &ts) == 0) c->wlocks++;
}

void ct__wunlock(ct_catalog *c)
{
    if (c->wlocks <= 0) return; /* the timed lock gave up: nothing held */
    c->wlocks--;
    pthread_mutex_unlock(&wmu);
}

/* The write transaction's hold on wmu ends (commit or rollback). */
static void tx_unlock(ct_catalog *c)
{
    if (!c->tx_wlock) return;
    c->tx_wlock = 0;
    ct__wunlock(c);
}

int ct_begin(ct_catalog *c, int write, char *err, size_t errlen)
{
    assert(sqlite3_get_autocommit(c->db)); /* one transaction per change, never nested */
    if (!write) return ct_exec(c, S_BEGIN, "begin read", err, errlen);
    ct__wlock(c);
    c->tx_wlock = c->wlocks > 0;
    int rc = ct_exec(c, S_BEGIN_IMM, "begin write", err, errlen);
    if (rc < 0) tx_unlock(c);
    return rc;
}

int ct_commit_tx(ct_catalog *c, char *err, size_t errlen)
{
    assert(!sqlite3_get_autocommit(c->db)); /* a ct_begin came first */
    if (ct_exec(c, S_COMMIT, "commit", err, errlen) < 0) {
        ct_rollback(c);
        return -1;
    }
    tx_unlock(c);
    return 0;
}

void ct_rollback(ct_catalog *c)
{
    if (sqlite3_get_autocommit(c->db)) { /* nothing open (or already rolled back) */
        tx_unlock(c);
        return;
    }
    sqlite3_stmt *s = ct_stmt(c, S_ROLLBACK, NULL, 0);
    if (s) {
        sqlite3_step(s);
        ct_done(s);
    }
    tx_unlock(c);
}

void ct_col_text(sqlite3_stmt *s, int col, char *dst, size_t cap)
{
    const unsigned char *t = sqlite3_column_text(s, col);
    snprintf(dst, cap, "%s", t ? (const char *)t : "");
}

void ct_table_name(ct_catalog *c, int64_t id, char *name)
{
    snprintf(name, 128, "#%lld", (long long)id);
    sqlite3_stmt *s = ct_stmt(c, S_TABLE_BY_ID, NULL, 0);
    if (!s) return;
    sqlite3_bind_int64(s, 1, id);
    if (sqlite3_step(s) == SQLITE_ROW) ct_col_text(s, 1, name, 128);
    ct_done(s);
}

const char *ct_path(const ct_catalog *c)
{
    return c ? c->path : "";
}

/* One integer-valued PRAGMA (or any single-value query). */
static int query_int(ct_catalog *c, const char *sql, int64_t *out, char *err, size_t errlen)
{
    sqlite3_stmt *s = NULL;
    if (sqlite3_prepare_v2(c->db, sql, -1, &s, NULL) != SQLITE_OK) goto fail;
    int rc = sqlite3_step(s);
    if (rc != SQLITE_ROW && rc != SQLITE_DONE) goto fail;
    *out = rc == SQLITE_ROW ? sqlite3_column_int64(s, 0) : 0;
    sqlite3_finalize(s);
    return 0;
fail:
    ct_sqlerr(c, sql, err, errlen);
    sqlite3_finalize(s);
    return -1;
}

static int exec_sql(ct_catalog *c, const char *sql, const char *what, char *err, size_t errlen)
{
    char *msg = NULL;
    if (sqlite3_exec(c->db, sql, NULL, NULL, &msg) == SQLITE_OK) return 0;
    int busy = (sqlite3_errcode(c->db) & 0xff) == SQLITE_BUSY;
    ut_err(err, errlen, "catalog %s: %s: %s", c->path, what,
           busy ? "busy (another process holds the lock)" : msg ? msg : "error");
    sqlite3_free(msg);
    return -1;
}

/* PRAGMA journal_mode = WAL.  On a new file, connections opened at the same
 * moment (every sink at a server's start) may get SQLITE_BUSY at once: the
 * busy handler does not cover the mode change, so retry for CT_BUSY_MS. */
static int set_wal(ct_catalog *c, char *err, size_t errlen)
{
    for (int waited = 0;; waited += 10) {
        if (exec_sql(c, "PRAGMA journal_mode = WAL", "set WAL mode", err, errlen) == 0) return 0;
        if ((sqlite3_errcode(c->db) & 0xff) != SQLITE_BUSY || waited >= CT_BUSY_MS) return -1;
        usleep(10 * 1000);
    }
}

/* Bring the schema to NMIGRATIONS inside one write transaction. */
static int migrate(ct_catalog *c, char *err, size_t errlen)
{
    int64_t v, app, nobj;
    char sql[128], what[64];
    if (query_int(c, "PRAGMA user_version", &v, err, errlen) < 0) return -1;
    if (v == NMIGRATIONS) return 0;
    if (exec_sql(c, "BEGIN IMMEDIATE", "begin migration", err, errlen) < 0) return -1;
    if (query_int(c, "PRAGMA user_version", &v, err, errlen) < 0) goto fail;
    if (query_int(c, "PRAGMA application_id", &app, err, errlen) < 0) goto fail;
    if (query_int(c, "SELECT count(*) FROM sqlite_master", &nobj, err, errlen) < 0) goto fail;
    if (v > NMIGRATIONS) {
        ut_err(err, errlen,
               "catalog %s: schema version %lld is newer than this sluice understands (%d); "
               "upgrade sluice",
               c->path, (long long)v, NMIGRATIONS);
        goto fail;
    }
    if ((app && app != CT_APP_ID) || (app == 0 && v == 0 && nobj > 0)) {
        ut_err(err, errlen, "catalog %s: an SQLite file that is not a sluice catalog", c->path);
        goto fail;
    }
    for (int64_t i = v; i < NMIGRATIONS; i++) {
        snprintf(what, sizeof what, "migration to schema v%lld", (long long)i + 1);
        if (exec_sql(c, migrations[i], what, err, errlen) < 0) goto fail;
        snprintf(sql, sizeof sql,
                 "INSERT INTO schema_migrations(version, applied_ms) VALUES(%lld, %lld)",
                 (long long)i + 1, (long long)ct_now_ms());
        if (exec_sql(c, sql, what, err, errlen) < 0) goto fail;
    }
    snprintf(sql, sizeof sql, "PRAGMA user_version = %d; PRAGMA application_id = %d", NMIGRATIONS,
             CT_APP_ID);
    if (exec_sql(c, sql, "set schema version", err, errlen) < 0) goto fail;
    if (exec_sql(c, "COMMIT", "commit migration", err, errlen) < 0) goto fail;
    return 0;
fail:
    if (!sqlite3_get_autocommit(c->db)) sqlite3_exec(c->db, "ROLLBACK", NULL, NULL, NULL);
    return -1;
}

/* The busy handler: another connection holds the write lock.  SQLite's own
 * (sqlite3_busy_timeout) sleeps 1, 2, 5, 10 ... 100 ms, which is what a
 * run's start or finish then waits behind a commit of a few hundred
 * microseconds; this one polls from 20 µs, doubling to 2 ms, and gives up
 * after CT_BUSY_MS like the timeout did. */
static int busy_wait(void *arg, int n)
{
    ct_catalog *c = arg;
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    int64_t now = (int64_t)ts.tv_sec * 1000000 + ts.tv_nsec / 1000;
    if (n == 0) c->busy_since_us = now;
    if (now - c->busy_since_us >= (int64_t)CT_BUSY_MS * 1000) return 0;
    int64_t us = n < 7 ? 20LL << n : 2000;
    if (us > 2000) us = 2000;
    struct timespec d = {0, (long)us * 1000};
    nanosleep(&d, NULL);
    return 1;
}

ct_catalog *ct_open(const char *path, char *err, size_t errlen)
{
    ct_catalog *c = ut_calloc(1, sizeof *c);
    if (!path || !*path || strlen(path) >= sizeof c->path) {
        ut_err(err, errlen, "catalog path missing or longer than %zu bytes", sizeof c->path - 1);
        goto fail;
    }
    snprintf(c->path, sizeof c->path, "%s", path);
    int flags = SQLITE_OPEN_READWRITE | SQLITE_OPEN_CREATE | SQLITE_OPEN_NOMUTEX;
    if (sqlite3_open_v2(path, &c->db, flags, NULL) != SQLITE_OK) {
        ut_err(err, errlen, "catalog %s: cannot open: %s", path,
               c->db ? sqlite3_errmsg(c->db) : "out of memory");
        goto fail;
    }
    sqlite3_extended_result_codes(c->db, 1);
    sqlite3_busy_handler(c->db, busy_wait, c);
    /* journal_mode=WAL is persistent in the file; the others are per connection. */
    if (set_wal(c, err, errlen) < 0) goto fail;
    int64_t wal = 0;
    char mode[16] = "";
    sqlite3_stmt *s = NULL;
    if (sqlite3_prepare_v2(c->db, "PRAGMA journal_mode", -1, &s, NULL) == SQLITE_OK &&
        sqlite3_step(s) == SQLITE_ROW) {
        ct_col_text(s, 0, mode, sizeof mode);
        wal = !strcmp(mode, "wal");
    }
    sqlite3_finalize(s);
    if (!wal) {
        ut_err(err, errlen, "catalog %s: cannot use WAL mode (journal mode is '%s')", path, mode);
        goto fail;
    }
    if (exec_sql(c, "PRAGMA synchronous = FULL; PRAGMA foreign_keys = ON; PRAGMA mmap_size = 268435456", "set pragmas", err,
                 errlen) < 0)
        goto fail;
    if (migrate(c, err, errlen) < 0) goto fail;
    return c;
fail:
    ct_close(c);
    return NULL;
}

int ct_lazy(ct_catalog *c, int lazy, char *err, size_t errlen)
{
    assert(sqlite3_get_autocommit(c->db)); /* not inside a transaction */
    if (!lazy == !c->lazy) return 0;
    if (exec_sql(c, lazy ? "PRAGMA synchronous = NORMAL" : "PRAGMA synchronous = FULL",
                 "set synchronous", err, errlen) < 0)
        return -1;
    c->lazy = lazy;
    return 0;
}

void ct_close(ct_catalog *c)
{
    if (!c) return;
    for (int i = 0; i < S__COUNT; i++) sqlite3_finalize(c->st[i]);
    sqlite3_close(c->db);
    free(c);
}

/* ---- types ------------------------------------------------------------------- */

static const char *const type_names[] = {
    [CT_BOOL] = "bool",     [CT_INT64] = "int64",         [CT_DOUBLE] = "double",
    [CT_STRING] = "string", [CT_TIMESTAMP] = "timestamp", [CT_DATE] = "date",
    [CT_INT32] = "int32",   [CT_FLOAT] = "float",         [CT_DECIMAL] = "decimal",
    [CT_TIME] = "time",     [CT_TIMESTAMP_NTZ] = "timestamp_ntz", [CT_BYTES] = "bytes",
};
_Static_assert(sizeof type_names / sizeof *type_names == CT_TYPE_END, "a name per type");

const char *ct_type_name(ct_type t)
{
    if ((int)t < CT_BOOL || (int)t >= CT_TYPE_END) return "?";
    return type_names[t];
}

int ct_type_parse(const char *s, ct_type *out)
{
    int p, sc;
    return ct_column_type_parse(s, out, &p, &sc);
}

int ct_decimal_valid(int precision, int scale)
{
    return precision >= 1 && precision <= CT_DECIMAL_MAX_PRECISION && scale >= 0 &&
           scale <= precision;
}

const char *ct_column_type_text(const ct_column *c, char *out, size_t n)
{
    assert(n >= CT_TYPE_TEXT_MAX);
    if (c->type == CT_DECIMAL) {
        if (!ct_decimal_valid(c->precision, c->scale)) snprintf(out, n, "?");
        else snprintf(out, n, "decimal(%d,%d)", c->precision, c->scale);
    } else {
        snprintf(out, n, "%s", ct_type_name(c->type));
    }
    return out;
}

/* A decimal number 0..99 at *s; advances *s.  -1 if none. */
static int small_number(const char **s)
{
    int v = 0, digits = 0;
    if (**s == '0' && (*s)[1] >= '0' && (*s)[1] <= '9') return -1; /* one text per number */
    while (**s >= '0' && **s <= '9' && digits < 3) {
        v = v * 10 + (**s - '0');
        (*s)++;
        digits++;
    }
    return digits && !(**s >= '0' && **s <= '9') ? v : -1;
}

int ct_column_type_parse(const char *s, ct_type *type, int *precision, int *scale)
{
    *precision = *scale = 0;
    if (!s) return -1;
    if (!strncmp(s, "decimal(", 8)) { /* "decimal(p,s)", exactly as ct_column_type_text */
        const char *q = s + 8;
        int p = small_number(&q);
        if (p < 0 || *q++ != ',') return -1;
        int sc = small_number(&q);
        if (sc < 0 || strcmp(q, ")") || !ct_decimal_valid(p, sc)) return -1;
        *type = CT_DECIMAL;
        *precision = p;
        *scale = sc;
        return 0;
    }
    for (int t = CT_BOOL; t < CT_TYPE_END; t++)
        if (t != CT_DECIMAL && !strcmp(s, type_names[t])) { /* a decimal has p and s */
            *type = (ct_type)t;
            return 0;
        }
    return -1;
}

void ct_names_free(char **names, int n)
{
    if (!names) return;
    for (int i = 0; i < n; i++) free(names[i]);
    free(names);
}
