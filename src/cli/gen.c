/* sluice gen — realistic ad-tech sample events as NDJSON, fast and
 * deterministic for a seed.  Events are built straight into a 1 MiB buffer
 * (no printf per field) and written with write(2). */
#include "cli/cli.h"
#include "util/util.h"

#include <errno.h>
#include <signal.h>
#include <stdio.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

typedef struct rng {
    uint64_t s;
} rng;

static inline uint64_t mix64(uint64_t z)
{
    z = (z ^ (z >> 30)) * 0xbf58476d1ce4e5b9ull;
    z = (z ^ (z >> 27)) * 0x94d049bb133111ebull;
    return z ^ (z >> 31);
}

static inline uint64_t next(rng *r) { return mix64(r->s += 0x9e3779b97f4a7c15ull); }
static inline uint32_t below(rng *r, uint32_t n) { return (uint32_t)(((next(r) >> 32) * n) >> 32); }

static const char *advertisers[] = {
    "Acme Games", "Blue Fin Bank", "Cedar Travel", "Dune Motors", "Echo Music", "Fable Books",
    "Granite Insurance", "Harbor Foods", "Iris Beauty", "Juniper Health", "Kite Delivery",
    "Lumen Energy", "Maple Fitness", "Nova Mobile", "Orbit Streaming", "Pine Furniture",
    "Quartz Fashion", "River Pets", "Summit Outdoor", "Tidal Games"};
static const char *media[] = {
    "com.puzzle.blast", "com.word.chef", "com.run.dash", "com.news.daily", "com.photo.lab",
    "com.chat.wave", "com.weather.now", "com.fit.track", "com.recipe.box", "com.tile.match",
    "news.example.com", "sports.example.net", "recipes.example.org", "tech.example.io",
    "travel.example.com", "games.example.net", "music.example.fm", "video.example.tv",
    "com.bike.route", "com.card.solitaire", "com.math.kids", "com.sleep.sounds",
    "com.stock.tick", "com.bus.times"};
static const char *android_models[] = {"Pixel 7", "Pixel 8", "Galaxy S23", "Galaxy A54",
                                       "Redmi Note 12", "OnePlus 11", "Moto G84", "Xperia 10"};
static const char *ios_models[] = {"iPhone 13", "iPhone 14", "iPhone 15", "iPhone 15 Pro",
                                   "iPhone SE", "iPad Air", "iPad Pro"};
static const char *countries[] = {"US", "US", "US", "US", "GB", "GB", "DE", "DE", "FR", "JP",
                                  "JP", "BR", "IN", "IN", "CA", "AU", "ES", "IT", "MX", "KR",
                                  "NL", "SE", "PL", "TR"};
#define N(a) (sizeof(a) / sizeof((a)[0]))

typedef struct out {
    char *p;
    size_t len;
} out;

static inline void put(out *o, const char *s, size_t n)
{
    memcpy(o->p + o->len, s, n);
    o->len += n;
}
#define PUTL(o, lit) put(o, lit, sizeof(lit) - 1)
static inline void puts0(out *o, const char *s) { put(o, s, strlen(s)); }

static inline void put_u(out *o, uint64_t v)
{
    char t[24];
    int n = 0;
    do {
        t[n++] = (char)('0' + v % 10);
        v /= 10;
    } while (v);
    while (n) o->p[o->len++] = t[--n];
}

static inline void put_dig(out *o, unsigned v, int width)
{
    for (int i = width - 1; i >= 0; i--) {
        o->p[o->len + (size_t)i] = (char)('0' + v % 10);
        v /= 10;
    }
    o->len += (size_t)width;
}

static inline void put_hex(out *o, uint64_t v, int digits)
{
    static const char hx[] = "0123456789abcdef";
    for (int i = digits - 1; i >= 0; i--) {
        o->p[o->len + (size_t)i] = hx[v & 15];
        v >>= 4;
    }
    o->len += (size_t)digits;
}

/* "YYYY-MM-DDTHH:MM:SS.mmmZ", caching the date part per day. */
static void put_time(out *o, int64_t us)
{
    static int64_t cached_day = INT64_MIN;
    static char date[16];
    int64_t ms = us >= 0 ? us / 1000 : -((-us + 999) / 1000);
    int64_t day = ms >= 0 ? ms / 86400000 : -((-ms + 86399999) / 86400000);
    int64_t rem = ms - day * 86400000;
    if (day != cached_day) {
        cached_day = day;
        ut_date_format(date, (int32_t)day);
    }
    put(o, date, 10);
    unsigned s = (unsigned)(rem / 1000);
    o->p[o->len++] = 'T';
    put_dig(o, s / 3600, 2);
    o->p[o->len++] = ':';
    put_dig(o, s / 60 % 60, 2);
    o->p[o->len++] = ':';
    put_dig(o, s % 60, 2);
    o->p[o->len++] = '.';
    put_dig(o, (unsigned)(rem % 1000), 3);
    o->p[o->len++] = 'Z';
}

/* cost in micro-units as a decimal ("0.002134") */
static void put_micros(out *o, uint64_t m)
{
    put_u(o, m / 1000000);
    o->p[o->len++] = '.';
    put_dig(o, (unsigned)(m % 1000000), 6);
    while (o->p[o->len - 1] == '0' && o->p[o->len - 2] != '.') o->len--;
}

static void event(out *o, rng *r, uint64_t seedmix, uint64_t i, int64_t t_us)
{
    uint64_t hi = next(r), lo = mix64(i ^ seedmix); /* lo is unique per i */
    hi = (hi & ~0xf000ull) | 0x4000ull;               /* version nibble 4 */
    PUTL(o, "{\"event_id\":\"");
    put_hex(o, hi >> 32, 8);
    o->p[o->len++] = '-';
    put_hex(o, hi >> 16, 4);
    o->p[o->len++] = '-';
    put_hex(o, hi, 4);
    o->p[o->len++] = '-';
    put_hex(o, lo >> 48, 4);
    o->p[o->len++] = '-';
    put_hex(o, lo, 12);
    PUTL(o, "\",\"event_time\":\"");
    put_time(o, t_us);
    uint32_t roll = below(r, 1000);
    int type = roll < 900 ? 0 : roll < 985 ? 1 : 2;
    static const char *types[] = {"impression", "click", "install"};
    PUTL(o, "\",\"event_type\":\"");
    puts0(o, types[type]);
    uint32_t camp = below(r, 240);
    PUTL(o, "\",\"campaign_id\":");
    put_u(o, 10000 + camp * 7);
    PUTL(o, ",\"advertiser\":\"");
    puts0(o, advertisers[camp % N(advertisers)]);
    PUTL(o, "\",\"media\":\"");
    /* a skewed pick: low indices more popular */
    uint32_t m = below(r, (uint32_t)N(media));
    m = below(r, m + 1);
    puts0(o, media[m]);
    uint32_t osr = below(r, 100);
    PUTL(o, "\",\"device\":{\"os\":\"");
    if (osr < 58) {
        PUTL(o, "android\",\"model\":\"");
        puts0(o, android_models[below(r, N(android_models))]);
    } else if (osr < 97) {
        PUTL(o, "ios\",\"model\":\"");
        puts0(o, ios_models[below(r, N(ios_models))]);
    } else {
        PUTL(o, "other\",\"model\":\"unknown");
    }
    PUTL(o, "\"},\"country\":\"");
    puts0(o, countries[below(r, N(countries))]);
    PUTL(o, "\",\"cost\":");
    if (below(r, 100) < 5) {
        PUTL(o, "null");
    } else {
        static const uint32_t lo_m[] = {200, 80000, 900000}, span[] = {4800, 1400000, 4100000};
        put_micros(o, lo_m[type] + below(r, span[type]));
    }
    PUTL(o, ",\"viewable\":");
    if (below(r, 100) < 72) PUTL(o, "true");
    else PUTL(o, "false");
    PUTL(o, ",\"user_id\":\"u_");
    put_dig(o, below(r, 2000000), 10);
    PUTL(o, "\"}\n");
}

/* Write all of o; 1 on EPIPE (reader went away), -1 on other errors. */
static int flush(out *o)
{
    size_t off = 0;
    while (off < o->len) {
        ssize_t w = write(1, o->p + off, o->len - off);
        if (w < 0 && errno == EINTR) continue;
        if (w < 0) return errno == EPIPE ? 1 : -1;
        off += (size_t)w;
    }
    o->len = 0;
    return 0;
}

static void sleep_ns(uint64_t ns)
{
    struct timespec ts = {(time_t)(ns / 1000000000ull), (long)(ns % 1000000000ull)};
    while (nanosleep(&ts, &ts) && errno == EINTR) {}
}

int cli_gen(int argc, char **argv)
{
    long count = 1000, seed = 1, rate = -1, spacing_ms = -1;
    const char *start = NULL;
    cli_flag flags[] = {
        {"count", 'n', CLI_INT, &count, "N", "number of events; 0 = endless"},
        {"seed", 's', CLI_INT, &seed, "S", "random seed (same seed, same events)"},
        {"start", 0, CLI_STR, &start, "RFC3339", "event_time of the first event (default 2024-05-01T00:00:00Z, or now with --rate)"},
        {"rate", 'r', CLI_INT, &rate, "EPS", "emit EPS events per second of wall-clock time (event times follow)"},
        {"spacing-ms", 0, CLI_INT, &spacing_ms, "MS", "average event-time gap between events (default 1; spreads data over days for benchmarks)"},
        {0}};
    cli_cmd cmd = {"gen", "", "print realistic sample events (ad impressions, clicks, installs) as NDJSON",
                   flags, 0, 0,
                   "Each event is one line of about 300 bytes: event_id, event_time (RFC 3339, ms;\n"
                   "increasing with jitter, ~2% arrive late by up to 2 hours), event_type\n"
                   "(impression ~90%, click, install), campaign_id, advertiser, media, device {os,\n"
                   "model}, country, cost (~5% null), viewable, user_id.  Without --rate events are\n"
                   "1 ms apart on average and written as fast as possible.\n"};
    char *pos[1];
    int npos;
    int rc = cli_parse(&cmd, argc, argv, pos, &npos);
    if (rc >= 0) return rc;
    if (rate == 0) {
        cli_errorf("gen", "--rate must be positive");
        return 2;
    }
    int64_t t_us;
    if (start) {
        if (ut_ts_parse(start, strlen(start), &t_us)) {
            cli_errorf("gen", "--start wants an RFC 3339 timestamp, got '%s'", start);
            return 2;
        }
    } else if (rate > 0) {
        struct timespec now;
        clock_gettime(CLOCK_REALTIME, &now);
        t_us = (int64_t)now.tv_sec * 1000000 + now.tv_nsec / 1000;
    } else {
        t_us = 1714521600000000LL; /* 2024-05-01T00:00:00Z */
    }
    signal(SIGPIPE, SIG_IGN);
    int64_t step = rate > 0 ? 1000000 / rate : spacing_ms > 0 ? (int64_t)spacing_ms * 1000 : 1000;
    if (step < 1) step = 1;
    static char buf[(1 << 20) + 4096];
    out o = {buf, 0};
    rng r = {mix64((uint64_t)seed) ^ 0x5851f42d4c957f2dull};
    uint64_t seedmix = mix64((uint64_t)seed * 0x2545f4914f6cdd1dull + 1);
    uint64_t t0 = ut_now_ns();
    for (uint64_t i = 0; count == 0 || i < (uint64_t)count; i++) {
        int64_t ts = t_us;
        if (below(&r, 100) < 2) ts -= 1000000 + (int64_t)below(&r, 7200000) * 1000; /* late */
        event(&o, &r, seedmix, i, ts);
        t_us += step / 2 + (int64_t)below(&r, (uint32_t)step + 1);
        if (rate > 0) {
            uint64_t due = t0 + (i + 1) * 1000000000ull / (uint64_t)rate, now = ut_now_ns();
            if (due > now) {
                if (o.len && (rc = flush(&o))) return rc > 0 ? 0 : 1;
                sleep_ns(due - now);
            }
        }
        if (o.len > (1 << 20) && (rc = flush(&o))) return rc > 0 ? 0 : (perror("sluice gen"), 1);
    }
    if ((rc = flush(&o))) return rc > 0 ? 0 : (perror("sluice gen"), 1);
    return 0;
}
