#!/usr/bin/env bash
# src/cron against an independent implementation: Python's zoneinfo (its own
# TZif and POSIX-footer reader over the same tzdata) plus a separate cron
# matcher in tests/lib/cron_ref.py.  Next and previous fires of a dozen
# schedules, hour/day/month windows and offsets, in a dozen zones (DST both
# hemispheres, 30- and 45-minute offsets, 30-minute DST, transitions at
# midnight, the day Samoa skipped), each from instants around the 2026 and
# 2100 transitions.  Driven by build/san/cron_driver
# (tests/unit/driver/cron_driver.c) in batch mode.
set -u
cd "$(dirname "$0")/../.."
if ! python3 -c 'import zoneinfo; zoneinfo.ZoneInfo("Europe/Berlin")' 2>/dev/null; then
    echo "FAIL cron_python: python3 with zoneinfo and tzdata is needed (scripts/deps.sh --test)"
    exit 1
fi
DRIVER=build/san/cron_driver
make --no-print-directory -s "$DRIVER" >/dev/null ||
    { echo "FAIL cron_python: building the driver"; exit 1; }
python3 tests/lib/cron_ref.py "$DRIVER"
