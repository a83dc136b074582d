#!/usr/bin/env bash
# Stops the demo cluster that `make run` started (`make stop`). Its data stays, so the
# next `make run` starts it again with what was there.
set -euo pipefail
. "$(dirname "$0")/demo-env.sh"

if [ ! -f "$data/PG_VERSION" ]; then
  echo "sgfdw demo: no cluster in $data"
  exit 0
fi
cd "$root_dir"
if as_postgres "$bin/pg_ctl" -D "$data" status >/dev/null; then
  as_postgres "$bin/pg_ctl" -D "$data" -m fast -w stop >/dev/null
  echo "sgfdw demo: cluster stopped"
else
  echo "sgfdw demo: cluster not running"
fi
