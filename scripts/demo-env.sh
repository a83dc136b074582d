# Sourced by run-demo.sh and stop-demo.sh: where the demo cluster lives, and how to run
# its server-side commands (initdb and postgres refuse root: they run as the postgres
# user, without root's environment, so PYTHONPATH and the like never reach the server).
bin=/usr/lib/postgresql/15/bin
root_dir=${SGFDW_DEMO_DIR:-/var/lib/sgfdw-demo}
port=${SGFDW_DEMO_PORT:-5499}
socket_dir=${SGFDW_DEMO_SOCKET_DIR:-/tmp/sgfdw-demo}
data=$root_dir/data
log=$root_dir/postgres.log

as_postgres() {
  if [ "$(id -u)" -eq 0 ]; then
    runuser -u postgres -- env -i PATH=/usr/bin:/bin LANG=C.UTF-8 "$@"
  else
    env -i PATH=/usr/bin:/bin LANG=C.UTF-8 "$@"
  fi
}
