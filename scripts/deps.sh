#!/usr/bin/env bash
# Installs what sluice needs on Debian 12, idempotently.
#   scripts/deps.sh          build + runtime packages
#   scripts/deps.sh --test   also test tools: clang (fuzz), node + npm packages
set -euo pipefail
cd "$(dirname "$0")/.."

BUILD_PKGS="build-essential pkg-config libzstd-dev libsnappy-dev liblz4-dev zlib1g-dev libxxhash-dev libisal-dev libyaml-dev libmicrohttpd-dev libcurl4-openssl-dev libssl-dev libsqlite3-dev libpq-dev libmariadb-dev libedit-dev libhiredis-dev curl tzdata"
TEST_PKGS="clang strace libclang-rt-14-dev time gzip zstd curl redis-server redis-tools postgresql mariadb-server mariadb-client sqlite3 python3 chromium"

want="$BUILD_PKGS"
[ "${1:-}" = "--test" ] && want="$want $TEST_PKGS"

missing=""
for p in $want; do
    dpkg-query -W -f='${Status}' "$p" 2>/dev/null | grep -q "install ok installed" || missing="$missing $p"
done
# Node.js may come from elsewhere than Debian (its npm then conflicts with
# Debian's): only ask apt for it when the commands are missing.
if [ "${1:-}" = "--test" ]; then
    command -v node >/dev/null 2>&1 || missing="$missing nodejs"
    command -v npm >/dev/null 2>&1 || missing="$missing npm"
fi
if [ -n "$missing" ]; then
    echo "installing Debian packages:$missing"
    SUDO=""; [ "$(id -u)" = 0 ] || SUDO=sudo
    $SUDO apt-get update -qq
    DEBIAN_FRONTEND=noninteractive $SUDO apt-get install -y -qq $missing >/dev/null
fi

if [ "${1:-}" = "--test" ]; then
    # npm test tools (DuckDB as the independent Parquet reader, s3rver as a
    # local S3 for the object store, playwright-core to drive Debian's
    # chromium for the console's browser tests), pinned by
    # tests/node/package-lock.json.
    if [ ! -d tests/node/node_modules/@duckdb/node-api ] || [ ! -d tests/node/node_modules/s3rver ] ||
       [ ! -d tests/node/node_modules/playwright-core ]; then
        echo "installing npm test tools into tests/node"
        # npm install, not npm ci: npm 11 records only some optional platform
        # bindings in the lock file and then refuses `ci`; the lock still pins
        # the versions.
        (cd tests/node && npm install --no-audit --no-fund --loglevel=error)
    fi
fi
