/* Error messages: plain (ut_err) and typed (ut_fail). */
#include "util/util.h"

#include <stdio.h>

int ut_err(char *err, size_t errlen, const char *fmt, ...)
{
    if (err && errlen) {
        va_list ap;
        va_start(ap, fmt);
        vsnprintf(err, errlen, fmt, ap);
        va_end(ap);
    }
    return -1;
}

int ut_fail(ut_error *e, ut_errkind kind, const char *fmt, ...)
{
    if (e) {
        e->kind = kind;
        va_list ap;
        va_start(ap, fmt);
        vsnprintf(e->msg, sizeof e->msg, fmt, ap);
        va_end(ap);
    }
    return -1;
}

const char *ut_errkind_name(ut_errkind kind)
{
    static const char *const names[UT_EKIND_COUNT] = {
        [UT_EOK] = "ok",           [UT_EINVAL] = "invalid",     [UT_ENOTFOUND] = "not found",
        [UT_EEXISTS] = "exists",   [UT_ETOOBIG] = "too big",    [UT_ETOODEEP] = "too deep",
        [UT_ELIMIT] = "limit",     [UT_ENOSPACE] = "no space",  [UT_EDENIED] = "denied",
        [UT_ETIMEOUT] = "timeout", [UT_ECORRUPT] = "corrupt",   [UT_EIO] = "i/o",
        [UT_EINTERNAL] = "internal", [UT_ECANCELED] = "cancelled",
    };
    return kind >= 0 && kind < UT_EKIND_COUNT ? names[kind] : "?";
}
