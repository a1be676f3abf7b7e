/* libFuzzer target: query parameters (params.c) — the SQL's {{name}}
 * placeholders, the definitions array and the values object.  Input:
 * "SQL\0DEFINITIONS\0VALUES" (missing parts are empty).  A bound result
 * has no "{{" left outside quotes, and every value it binds is defined
 * (one parameter per definition, two per daterange). */
#include "server/server.h"
#include "sql/sql.h"

#include <stdint.h>
#include <stdlib.h>
#include <string.h>

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    char *s = malloc(size + 3);
    memcpy(s, data, size);
    s[size] = s[size + 1] = s[size + 2] = 0;
    const char *sql = s;
    const char *defs = sql + strlen(sql) + 1;
    if (defs > s + size) defs = s + size + 1;
    const char *vals = defs + strlen(defs) + 1;
    if (vals > s + size + 1) vals = s + size + 2;
    char err[512];
    sv_bound b;
    if (sv_params_bind(sql, defs, strlen(defs), vals, strlen(vals), &b, err, sizeof err) == 0) {
        int want = b.ndefs; /* a daterange binds two */
        for (int i = 0; i < b.ndefs; i++) want += b.defs[i].type == SV_PARAM_DATERANGE;
        if (b.n != want) __builtin_trap();
        for (int i = 0; i < b.n; i++)
            if (!b.p[i].name || (b.p[i].type == SQ_PARAM_TEXT && !b.p[i].text)) __builtin_trap();
        sv_bound_free(&b);
    }
    sv_param_def *d = NULL;
    int n = sv_param_defs_parse(defs, strlen(defs), &d, err, sizeof err);
    if (n >= 0) (void)sv_sql_check_template(sql, d, n, err, sizeof err);
    sv_param_defs_free(d, n > 0 ? n : 0);
    free(s);
    return 0;
}
