# sgfdw: PGXS build of the C bridge, plus the Python environment the backend embeds.
#
#   make            build the module
#   make install    install module, SQL scripts and the Python venv (as root)
#   make run        set up this machine and start a demo cluster with sgfdw ready
#   make stop       stop the demo cluster
#   make test       install, then run the test suite against throwaway clusters
#   make installcheck  the test suite against what is installed (installs nothing)
#   make lint       ruff and mypy (installed into the tests' venv)
#   make bench      run the benchmarks in bench/

PG_CONFIG ?= pg_config
PYTHON_SYSTEM ?= /usr/bin/python3.11
PYTHON_CONFIG ?= /usr/bin/python3.11-config
# The venv the backend embeds by default (GUC sgfdw.python overrides it).
SGFDW_VENV ?= /usr/local/lib/sgfdw/venv
# The venv the tests and benchmarks run in (client side).
DEV_VENV ?= .venv

MODULE_big = sgfdw
OBJS = $(patsubst %.c,%.o,$(wildcard src/*.c))
EXTENSION = sgfdw
# A new install of the current version runs the first version's script, then each
# upgrade script in turn: made from them, so a fresh install and an upgraded 0.1 cannot drift.
UPGRADES = sql/sgfdw--0.1--0.2.sql sql/sgfdw--0.2--0.3.sql sql/sgfdw--0.3--0.4.sql
DATA_built = sql/sgfdw--0.4.sql
DATA = $(filter-out $(DATA_built),$(wildcard sql/sgfdw--*.sql))
PG_CPPFLAGS = $(shell $(PYTHON_CONFIG) --includes) -DSGFDW_DEFAULT_PYTHON='"$(SGFDW_VENV)/bin/python"'
SHLIB_LINK = $(shell $(PYTHON_CONFIG) --ldflags --embed)
# installcheck is ours (pytest), not pg_regress's.
NO_INSTALLCHECK = 1
# Bitcode for JIT inlining is of no use for a module that calls into Python.
override with_llvm = no

PGXS := $(shell $(PG_CONFIG) --pgxs 2>/dev/null)
ifneq ($(PGXS),)
include $(PGXS)
endif

sql/sgfdw--0.4.sql: sql/sgfdw--0.1.sql $(UPGRADES)
	{ cat sql/sgfdw--0.1.sql; for step in $(UPGRADES); do echo; sed '/^\\echo /d' $$step; done; } > $@

# Every file includes the shared header: a changed struct there must rebuild them all
# (a stale object reading the old layout crashes the backend).
$(OBJS): $(wildcard src/*.h)

.PHONY: deps python-env dev-env run stop test installcheck bench lint

# System packages a fresh Debian 12 machine lacks.
deps:
	@bash scripts/install-deps.sh

python-env:
	@bash scripts/install-python-env.sh $(PYTHON_SYSTEM) $(SGFDW_VENV)

ifneq ($(PGXS),)
install: python-env
endif

# Reinstalled when requirements-dev.txt changes, so an existing venv gets new tools too.
dev-env: $(DEV_VENV)/.requirements-dev

$(DEV_VENV)/.requirements-dev: requirements-dev.txt
	@test -x $(DEV_VENV)/bin/python || $(PYTHON_SYSTEM) -m venv $(DEV_VENV)
	$(DEV_VENV)/bin/pip install -q -r requirements-dev.txt
	@touch $@

run: deps
	$(MAKE) install
	@bash scripts/run-demo.sh

stop:
	@bash scripts/stop-demo.sh

# Two workers (pytest-xdist): a test keeps about one core busy between the client and
# its server backend, so two use both cores of the CI machine; each worker starts its
# own clusters (see pytest_xdist_make_scheduler in tests/conftest.py).
PYTEST = $(DEV_VENV)/bin/python -m pytest -q -n 2 tests $(PYTEST_ARGS)

# The tests' servers import the working tree's Python packages (see tests/conftest.py).
test: deps
	$(MAKE) install dev-env
	$(PYTEST)

# The module, SQL scripts and venv already installed, as a server without the checkout
# sees them; only the client-side venv of the tests is made, in the checkout.
installcheck: dev-env
	SGFDW_TEST_INSTALLED=1 $(PYTEST)

# ruff on the whole tree, mypy on the packages (configured in pyproject.toml).
lint: deps
	$(MAKE) dev-env
	$(DEV_VENV)/bin/ruff check .
	$(DEV_VENV)/bin/mypy

bench: deps
	$(MAKE) install dev-env
	@for b in bench/*.py; do echo "== $$b"; $(DEV_VENV)/bin/python $$b || exit 1; done
