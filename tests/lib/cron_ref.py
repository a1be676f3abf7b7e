"""Independent reference for src/cron, used by tests/integration/cron_python.sh.

Python's zoneinfo (its own TZif and POSIX TZ footer reader) gives the
offsets; this file has its own cron parser and enumerates the matching wall
minutes in order, mapping each to an instant by the rules of docs/cron.md:
a repeated wall time fires at its first occurrence (fold=0), a skipped one
at the first instant after the gap (found by bisection on utcoffset).

    python3 cron_ref.py DRIVER     runs every case through `DRIVER batch`,
                                   compares, prints ok/FAIL lines
"""
import subprocess
import sys
from datetime import date, datetime, timedelta, timezone
from zoneinfo import ZoneInfo

UTC = timezone.utc
MONTHS = "JAN FEB MAR APR MAY JUN JUL AUG SEP OCT NOV DEC".split()
DAYS = "SUN MON TUE WED THU FRI SAT".split()
MACROS = {"@hourly": "0 * * * *", "@daily": "0 0 * * *", "@weekly": "0 0 * * 0",
          "@monthly": "0 0 1 * *", "@yearly": "0 0 1 1 *"}


def parse_field(text, lo, hi, names=None, base=0):
    out = set()
    for item in text.split(","):
        rng, _, step = item.partition("/")
        step = int(step) if step else 1
        if rng == "*":
            a, b = lo, hi
        else:
            ends = rng.split("-")

            def val(s):
                if names and s.upper() in names:
                    return names.index(s.upper()) + base
                return int(s)
            a = val(ends[0])
            b = val(ends[1]) if len(ends) > 1 else a
        out.update(range(a, b + 1, step))
    return out


class Cron:
    def __init__(self, text):
        f = MACROS.get(text, text).split()
        self.minutes = sorted(parse_field(f[0], 0, 59))
        self.hours = sorted(parse_field(f[1], 0, 23))
        self.mdays = parse_field(f[2], 1, 31)
        self.months = parse_field(f[3], 1, 12, MONTHS, 1)
        self.wdays = {d % 7 for d in parse_field(f[4], 0, 7, DAYS)}
        self.and_rule = f[2].startswith("*") or f[4].startswith("*")

    def day_ok(self, d):
        if d.month not in self.months:
            return False
        dom = d.day in self.mdays
        dow = (d.isoweekday() % 7) in self.wdays
        return (dom and dow) if self.and_rule else (dom or dow)

    def walls(self, start, step):
        """Matching wall datetimes from day `start`, forward (step 1) or back."""
        d = start
        for _ in range(366 * 401):
            if self.day_ok(d):
                hours = self.hours if step > 0 else reversed(self.hours)
                for h in hours:
                    mins = self.minutes if step > 0 else list(reversed(self.minutes))
                    for m in mins:
                        yield datetime(d.year, d.month, d.day, h, m)
            d += timedelta(days=step)


def off(tz, t):
    return t.astimezone(tz).utcoffset()


def to_utc(tz, wall):
    """First occurrence, or the first instant after the gap."""
    u0 = wall.replace(tzinfo=tz, fold=0).astimezone(UTC)
    if u0.astimezone(tz).replace(tzinfo=None) == wall:
        u1 = wall.replace(tzinfo=tz, fold=1).astimezone(UTC)
        return min(u0, u1) if u1.astimezone(tz).replace(tzinfo=None) == wall else u0
    u1 = wall.replace(tzinfo=tz, fold=1).astimezone(UTC)
    lo, hi = min(u0, u1), max(u0, u1)  # the transition is in (lo, hi]
    first = off(tz, lo)
    while hi - lo > timedelta(seconds=1):
        mid = lo + (hi - lo) / 2
        mid = mid.replace(microsecond=0)
        if off(tz, mid) == first:
            lo = mid
        else:
            hi = mid
    return hi


def fires(cron, tz, t, count, forward):
    wall = t.astimezone(tz).replace(tzinfo=None)
    start = wall.date() + timedelta(days=-2 if forward else 2)
    out = []
    for w in cron.walls(start, 1 if forward else -1):
        u = to_utc(tz, w)
        if (u > t if forward else u < t) and (not out or u != out[-1]):
            if out and (u < out[-1] if forward else u > out[-1]):
                raise AssertionError("mapping not monotonic at %s" % w)
            out.append(u)
            if len(out) == count:
                break
    return out


def every(period_s, t, count, forward):
    p = timedelta(seconds=period_s)
    epoch = datetime(1970, 1, 1, tzinfo=UTC)
    q, r = divmod(t - epoch, p)
    if forward:  # the multiples after t: q + 1, q + 2, ...
        return [epoch + (q + i) * p for i in range(1, count + 1)]
    k = q if r else q - 1  # the largest multiple before t
    return [epoch + (k - i) * p for i in range(count)]


def windows(unit, tz, t, count):
    def label_start(w):
        return to_utc(tz, w)

    def nxt(w):
        if unit == "hour":
            return w + timedelta(hours=1)
        if unit == "day":
            return w + timedelta(days=1)
        return w.replace(year=w.year + (w.month == 12), month=w.month % 12 + 1)

    wall = t.astimezone(tz).replace(tzinfo=None)
    if unit == "hour":
        w = wall.replace(minute=0, second=0, microsecond=0)
    elif unit == "day":
        w = datetime(wall.year, wall.month, wall.day)
    else:
        w = datetime(wall.year, wall.month, 1)
    while label_start(nxt(w)) <= t:
        w = nxt(w)
    out = []
    while len(out) < count:
        s, e = label_start(w), label_start(nxt(w))
        if s < e:
            out.append("%s %s %s %s %02d" % (
                s.astimezone(tz).isoformat(), e.astimezone(tz).isoformat(),
                w.date().isoformat(), w.strftime("%Y%m%d"), w.hour))
        w = nxt(w)
    return out


def z(t):
    return t.strftime("%Y-%m-%dT%H:%M:%SZ")


def transitions(tz, year):
    """Instants in `year` where the offset changes (hourly scan, then bisect)."""
    out = []
    t = datetime(year, 1, 1, tzinfo=UTC)
    end = datetime(year + 1, 1, 1, tzinfo=UTC)
    while t < end:
        n = t + timedelta(hours=1)
        if off(tz, t) != off(tz, n):
            lo, hi = t, n
            while hi - lo > timedelta(seconds=1):
                mid = lo + (hi - lo) / 2
                if off(tz, mid) == off(tz, lo):
                    lo = mid
                else:
                    hi = mid
            out.append(hi)
        t = n
    return out


ZONES = ["Europe/Berlin", "America/New_York", "Asia/Kolkata", "Asia/Kathmandu",
         "Australia/Sydney", "Australia/Lord_Howe", "Pacific/Chatham", "America/Santiago",
         "America/Havana", "Europe/London", "America/Sao_Paulo", "UTC"]
SCHEDULES = ["30 2 * * *", "*/15 * * * *", "0 0 * * *", "0 * * * *", "30 1 * * *",
             "0 0 29 2 *", "0 0 31 * *", "0 9 * * MON-FRI", "0 0 1,15 * 5", "0 0 */2 * 1",
             "@weekly", "45 23 28-31 * *", "0 12 * JAN,JUL SUN"]
EVERY = [("every:15m", 900), ("every:7s", 7), ("every:1d", 86400), ("every:90m", 5400)]


def cases():
    starts = {}
    for name in ZONES:
        tz = ZoneInfo(name)
        pts = [datetime(2026, 1, 1, tzinfo=UTC), datetime(2100, 6, 15, 12, tzinfo=UTC)]
        for y in (2026, 2100):
            for tr in transitions(tz, y):
                pts += [tr - timedelta(hours=3), tr - timedelta(hours=26), tr,
                        tr + timedelta(minutes=30)]
        starts[name] = pts
    # Pacific/Apia skipped 2011-12-30 entirely
    starts["Pacific/Apia"] = [datetime(2011, 12, 29, 0, tzinfo=UTC),
                              datetime(2011, 12, 31, 12, tzinfo=UTC)]
    for name, pts in starts.items():
        for t in pts:
            for s in SCHEDULES:
                yield ("next", s, name, t, 8)
                yield ("prev", s, name, t, 8)
            for unit in ("hour", "day", "month"):
                yield ("window", unit, name, t, 4 if unit == "month" else 30)
            yield ("offset", None, name, t, 1)
    for s, _ in EVERY:
        for t in (datetime(2026, 3, 29, 0, 59, 59, tzinfo=UTC), datetime(1969, 12, 31, 23, tzinfo=UTC)):
            yield ("next", s, "Europe/Berlin", t, 5)
            yield ("prev", s, "Europe/Berlin", t, 5)


def expect(kind, arg, name, t, count):
    tz = ZoneInfo(name)
    if kind == "offset":
        return [str(int(off(tz, t).total_seconds()))]
    if kind == "window":
        return windows(arg, tz, t, count)
    period = dict(EVERY).get(arg)
    if period:
        return [z(u) for u in every(period, t, count, kind == "next")]
    return [z(u) for u in fires(Cron(arg), tz, t, count, kind == "next")]


def main():
    driver = sys.argv[1]
    todo = list(cases())
    lines = []
    for kind, arg, name, t, count in todo:
        words = [kind] + ([arg] if arg else []) + [name, z(t)] + ([str(count)] if kind != "offset" else [])
        lines.append("\t".join(words))
    r = subprocess.run([driver, "batch"], input="\n".join(lines) + "\n", capture_output=True,
                       text=True, timeout=600)
    got = r.stdout.split("--\n")
    if r.returncode != 0:
        print("FAIL cron_python driver: exit %d: %s" % (r.returncode, r.stderr[-2000:]))
        return 1
    groups = {}
    for i, case in enumerate(todo):
        kind, arg, name = case[0], case[1], case[2]
        want = expect(*case)
        have = got[i].splitlines() if i < len(got) else ["(no answer)"]
        key = "%s_%s" % (kind, name)
        g = groups.setdefault(key, [0, []])
        g[0] += 1
        if have != want:
            g[1].append("%s %r %s %s: want %s got %s" % (kind, arg, name, z(case[3]), want, have))
    bad = 0
    for key in sorted(groups):
        n, errs = groups[key]
        if errs:
            bad += 1
            print("FAIL cron_python %s: %d of %d cases differ" % (key, len(errs), n))
            for e in errs[:5]:
                print("    " + e)
        else:
            print("ok cron_python %s (%d cases)" % (key, n))
    return 1 if bad else 0


if __name__ == "__main__":
    sys.exit(main())
