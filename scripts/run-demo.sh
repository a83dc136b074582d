#!/usr/bin/env bash
# Starts the persistent demo cluster (`make run`, after `make install`) and sets up a
# database `demo` with sgfdw and a foreign table over sgfdw.demo.DemoFdw.
# Idempotent: a cluster already running is reused and existing objects are kept.
# The cluster listens on a unix socket only, in a directory only its owner (and root)
# can enter, with trust authentication: local to this machine's administrator.
set -euo pipefail

. "$(dirname "$0")/demo-env.sh"

if [ "$(id -u)" -eq 0 ]; then
  install -d -o postgres -g postgres -m 700 "$root_dir" "$socket_dir"
else
  install -d -m 700 "$root_dir" "$socket_dir"
fi
# The server's user may not be allowed into the caller's working directory.
cd "$root_dir"

if [ ! -f "$data/PG_VERSION" ]; then
  as_postgres "$bin/initdb" -D "$data" -U postgres --auth=trust -E UTF8 --locale=C.UTF-8 >/dev/null
  as_postgres sh -c "cat >> '$data/postgresql.conf'" <<EOF
# sgfdw demo: unix socket only, on its own port (no clash with other clusters).
listen_addresses = ''
port = $port
unix_socket_directories = '$socket_dir'
EOF
fi

if as_postgres "$bin/pg_ctl" -D "$data" status >/dev/null; then
  echo "sgfdw demo: cluster already running"
else
  as_postgres "$bin/pg_ctl" -D "$data" -l "$log" -w -t 60 start >/dev/null
  echo "sgfdw demo: cluster started"
fi

psql=("$bin/psql" -h "$socket_dir" -p "$port" -U postgres -X -q -v ON_ERROR_STOP=1)
if [ -z "$("${psql[@]}" -d postgres -tAc "SELECT 1 FROM pg_database WHERE datname = 'demo'")" ]; then
  "${psql[@]}" -d postgres -c "CREATE DATABASE demo"
fi
"${psql[@]}" -d demo <<'SQL'
SET client_min_messages = warning;  -- no "already exists, skipping" on a rerun
CREATE EXTENSION IF NOT EXISTS sgfdw;
ALTER EXTENSION sgfdw UPDATE;  -- a demo database made by an older version
CREATE SERVER IF NOT EXISTS demo FOREIGN DATA WRAPPER sgfdw
  OPTIONS (wrapper 'sgfdw.demo.DemoFdw');
CREATE FOREIGN TABLE IF NOT EXISTS demo_numbers (id int, name text, value float8)
  SERVER demo OPTIONS (rows '10');
SQL

# The object store: a versioned repository made from the demo data (made once).
"${psql[@]}" -d demo <<'SQL'
SELECT NOT EXISTS (SELECT FROM sgfdw.repositories WHERE repository = 'demo/numbers')
  AS new_repository \gset
\if :new_repository
SELECT sgfdw.init('demo/numbers') \g /dev/null
SELECT sgfdw.import_table('demo/numbers', 'numbers', 'demo_numbers', 'imported') \g /dev/null
UPDATE "demo/numbers".numbers SET value = value * 10 WHERE id = 1;
SELECT sgfdw.commit('demo/numbers', 'value of 1 times ten') \g /dev/null
\endif
SQL
"${psql[@]}" -d demo -c "SELECT left(image_hash, 12) AS image, comment, tags FROM sgfdw.log('demo/numbers');"

query="SELECT * FROM demo_numbers WHERE id <= 3;"
# Run the sample once: a broken install shows up here, not in the user's first query.
"${psql[@]}" -d demo -c "$query"

cat <<EOF
sgfdw demo is ready (data: $data, log: $log).

Connect with:
  psql -h $socket_dir -p $port -U postgres demo
and try:
  $query

The object store holds a versioned copy of it, the repository demo/numbers:
  SELECT * FROM sgfdw.log('demo/numbers');
  SELECT * FROM "demo/numbers".numbers WHERE id = 1;

Stop it with:
  make stop
EOF
