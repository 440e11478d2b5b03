#!/usr/bin/env bash
# The side-by-side measurements issue 15 is judged by, run from the repository with the bench
# venv of ../shared/bench/README.md active (convoledger installed there with -e .):
#   bash bench/side_by_side.sh [peers|http|all]   (default: all)
# peers: the Ledger (SQLite, PostgreSQL) against its peers, medium size, 3 interleaved rounds;
# http:  `convoledger serve` (default options) against the minimal FastAPI app, 3 rounds of 15 s.
# Needs BENCH_PG_DSN / BENCH_REDIS_URL for peers (see ../shared/bench/README.md) and wrk for http.
set -euo pipefail
HERE=$(cd "$(dirname "$0")" && pwd)
SHARED=$HERE/../../shared/bench
what=${1:-all}
if [ "$what" = peers ] || [ "$what" = all ]; then
  python "$SHARED/peers/run.py" --size medium --rounds 3 \
    --only raw_sqlite,raw_sqlite_to_thread,agents_sqlite,agents_sqlite_warm,ours_sqlite,raw_asyncpg,langchain_postgres,ours_pg
fi
if [ "$what" = http ] || [ "$what" = all ]; then
  bash "$SHARED/http/run.sh" --rounds 3 --seconds 15
fi
