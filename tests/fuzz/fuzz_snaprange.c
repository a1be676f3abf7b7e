/* libFuzzer target: the texts a split snapshot's range tasks and its
 * coordinator exchange through the store (src/jobs/snap_range.c), parsed
 * as a range's manifest and as a plan.  Contracts: no crash, no leak; a
 * manifest's files stay within SNAP_MAX_STAGED and each file's statistics
 * within the count its line announced; a plan's columns select within the
 * columns it read. */
#include "jobs/jb_snap.h"

#include <stdint.h>
#include <stdlib.h>
#include <string.h>

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    if (size > (1u << 20)) return 0;
    cf_job job = {0};
    snprintf(job.name, sizeof job.name, "fz");
    ct_run run = {0};
    snprintf(run.part, sizeof run.part, "s.t");
    jb_task_ctx c = {.job = &job, .run = &run};
    for (int manifest = 0; manifest < 2; manifest++) {
        jb_snap_run *k = calloc(1, sizeof *k);
        k->c = &c;
        k->ncols = manifest ? 3 : 0;
        k->nulled = calloc(4, sizeof *k->nulled);
        ut_error e = {0};
        int rc = jb__snap_range_parse(k, (const char *)data, size, manifest, &e);
        if (rc != 0 && rc != -1) __builtin_trap();
        if (k->nstaged > SNAP_MAX_STAGED) __builtin_trap();
        for (int i = 0; i < k->nstaged; i++) free(k->staged[i].f.stats);
        for (int i = 0; !manifest && i < k->ncols; i++) {
            if (k->sc[i].sel < -1) __builtin_trap();
            mk_destroy(k->sc[i].mask);
        }
        free(k->staged);
        free(k->cols);
        free(k->sc);
        free(k->nulled);
        free(k);
    }
    return 0;
}
