#!/usr/bin/env bash
# Installs the Debian 12 packages sgfdw needs to build, install and test.
# Idempotent and fast when everything is there: apt is only touched (and its package
# lists only refreshed) when dpkg says something is missing. Runs unattended (CI has no
# stdin), so no prompts and no service restarts asked for.
set -euo pipefail

packages=(
  postgresql-15             # server binaries in /usr/lib/postgresql/15/bin (tests start their own clusters)
  postgresql-server-dev-15  # PGXS and server headers; brings libpq-dev and pg_config
  postgresql-plpython3-15   # PL/Python, for the tests of sharing its interpreter
  python3.11                # the interpreter the bridge embeds
  python3.11-dev            # Python.h and python3.11-config for compiling and linking
  python3.11-venv           # the venvs of the backend and of the tests
  gcc
  make
)

missing=()
for p in "${packages[@]}"; do
  # "install ok installed" only for a fully configured package; anything else
  # (absent, half-installed, removed with config left) counts as missing.
  status=$(dpkg-query -W -f='${Status}' "$p" 2>/dev/null || true)
  [ "$status" = "install ok installed" ] || missing+=("$p")
done

if [ ${#missing[@]} -eq 0 ]; then
  exit 0
fi

if [ "$(id -u)" -ne 0 ]; then
  echo "install-deps: missing packages: ${missing[*]}; run as root (or install them) first" >&2
  exit 1
fi

echo "install-deps: installing ${missing[*]}"

# The tests and the demo run their own clusters on their own ports. Tell
# postgresql-common not to create (and so not to start) the default 'main' cluster
# when postgresql-15 is installed here for the first time.
mkdir -p /etc/postgresql-common/createcluster.d
conf=/etc/postgresql-common/createcluster.d/sgfdw-no-main-cluster.conf
[ -e "$conf" ] || echo "create_main_cluster = false" > "$conf"

export DEBIAN_FRONTEND=noninteractive
apt-get update -q
apt-get install -y -q --no-install-recommends "${missing[@]}" </dev/null
