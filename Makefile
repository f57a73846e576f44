# The two commands newcomers need: `make run` and `make test`.
PYTHON ?= python3
VENV := .venv
PY := $(VENV)/bin/python
# The locks (requirements/*.txt, hashes for every transitive dependency) are
# generated from pyproject.toml by `make lock`; every install reads them.
# base.txt is production's (the Dockerfile); dev.txt is base + dev + embedded.
LOCK := requirements/dev.txt
LOCKS := requirements/base.txt requirements/dev.txt
STAMP := $(VENV)/.installed-$(shell cat $(LOCKS) | cksum | cut -d' ' -f1)
PYTEST_ARGS ?=
# Test processes (pytest-xdist): one per core by default; JOBS=0 runs in-process.
JOBS ?= auto


.PHONY: run test test-deep test-pgbouncer restore-drill venv lock lock-compile lock-check lint typecheck fmt messages check-deploy bench clean

venv: $(STAMP)

# Only the locked, hash-checked files: pip refuses anything not pinned with a
# hash and builds nothing from source. The project itself is not installed
# (pyproject.toml lists no packages: the code runs from this folder).
$(STAMP): $(LOCKS)
	@test -x $(PY) || $(PYTHON) -m venv $(VENV)
	$(PY) -m pip install --quiet --require-hashes --only-binary :all: -r $(LOCK)
	@rm -f $(VENV)/.installed-*
	@touch $@

# Regenerate the locks from pyproject.toml, keeping every pin that still fits;
# `make lock UPGRADE=1` moves each transitive dependency to its newest release.
# dev.txt is constrained by base.txt, so both agree on every shared package.
UV_COMPILE = $(VENV)/bin/uv pip compile pyproject.toml --universal --python-version 3.11 \
	--generate-hashes --custom-compile-command "make lock" --quiet $(if $(UPGRADE),--upgrade)
lock: venv lock-compile
lock-compile:
	$(UV_COMPILE) -o requirements/base.txt
	$(UV_COMPILE) --extra dev --extra embedded -c requirements/base.txt -o requirements/dev.txt

# Fails when pyproject.toml changed without `make lock` (CI runs it): the
# same compile in a scratch copy, compared with the committed files.
lock-check: venv
	@tmp=$$(mktemp -d) && mkdir $$tmp/requirements && cp pyproject.toml $$tmp/ && \
	cp $(LOCKS) $$tmp/requirements/ && \
	(cd $$tmp && $(MAKE) -s -f $(CURDIR)/Makefile VENV=$(CURDIR)/$(VENV) STAMP= lock-compile) && \
	diff -u requirements/base.txt $$tmp/requirements/base.txt && \
	diff -u requirements/dev.txt $$tmp/requirements/dev.txt && \
	rm -r $$tmp || { echo "requirements/ does not match pyproject.toml: run make lock"; exit 1; }

run: venv
	exec $(PY) scripts/devctl.py run

test: venv
	$(PY) scripts/devctl.py exec -- $(PY) -m pytest -n $(JOBS) $(PYTEST_ARGS)

# The money tests through a strict PgBouncer in transaction mode (ops/pgbouncer.py:
# DISCARD ALL after every transaction), in front of the test PostgreSQL. The
# test databases are made fresh and kept (--reuse-db --create-db): the pooler
# may still hold a connection to them when the run ends.
MONEY_TESTS := tests/ledger tests/payouts tests/payments tests/funding tests/buttons tests/claims tests/ops
test-pgbouncer: venv
	$(PY) scripts/devctl.py exec -- $(PY) -m ops.pgbouncer -- \
	  $(PY) -m pytest -n $(JOBS) --reuse-db --create-db $(MONEY_TESTS) $(PYTEST_ARGS)

# Dump the database, restore it into a fresh one and verify the copy
# (ledger_check, every published transparency root, counts): docs/operations.md.
restore-drill: venv
	$(PY) scripts/devctl.py exec -- $(PY) manage.py restore_drill $(DRILL_ARGS)

# The property tests searching long (thousands of examples each); what they
# find stays in .hypothesis/ and is replayed first by every later `make test`.
test-deep: venv
	HYPOTHESIS_PROFILE=deep $(PY) scripts/devctl.py exec -- \
	  $(PY) -m pytest -n $(JOBS) -m hypothesis $(PYTEST_ARGS)

# The whole tree, as pyproject.toml's [tool.mypy] says (files, exclusions,
# strict modules and the shrinking list of exempt ones); pre-commit and CI
# run the same command.
typecheck: venv
	$(VENV)/bin/mypy

lint: venv
	$(VENV)/bin/ruff check .
	$(VENV)/bin/ruff format --check .
	$(VENV)/bin/djlint --check templates */templates
	$(VENV)/bin/djlint --lint templates */templates
	$(VENV)/bin/lint-imports --no-cache

fmt: venv
	$(VENV)/bin/ruff format .
	$(VENV)/bin/ruff check --fix .
	$(VENV)/bin/djlint --reformat --quiet templates */templates

# Needs gettext (apt install gettext). The compiled .mo files are committed.
# The project catalogue (locale/) covers templates/, flattr_site/ and accounts/;
# every other app keeps its own catalogue in <app>/locale/.
APP_CATALOGS := ledger payments payments/withdrawals buttons payouts api notifications claims likes
MAKEMESSAGES := makemessages -l fr --no-obsolete -i '.venv/*' -i '.data/*' -i 'staticfiles/*' -i 'tests/*' -i 'bench/*'
# Development commands: DEBUG=1 lets manage.py and the settings do without
# DATABASE_URL / SECRET_KEY (they need no database).
messages: export DEBUG := 1
messages: venv
	$(PY) manage.py $(MAKEMESSAGES) $(foreach app,$(APP_CATALOGS),-i '$(app)/*') -i 'scripts/*'
	$(PY) manage.py compilemessages -l fr -i '.venv' $(foreach app,$(APP_CATALOGS),-i '$(notdir $(app))')
	# payments/ leaves payments/withdrawals/ to its own catalogue; only there:
	# withdrawals/ also names template folders (templates/withdrawals/).
	for app in $(APP_CATALOGS); do \
	  skip=""; [ "$$app" = payments ] && skip='withdrawals/*'; \
	  (cd $$app && mkdir -p locale && DJANGO_SETTINGS_MODULE=flattr_site.settings PYTHONPATH=$(CURDIR) \
	    $(CURDIR)/$(VENV)/bin/django-admin $(MAKEMESSAGES) $${skip:+-i "$$skip"} && \
	   DJANGO_SETTINGS_MODULE=flattr_site.settings PYTHONPATH=$(CURDIR) \
	    $(CURDIR)/$(VENV)/bin/django-admin compilemessages -l fr) || exit 1; \
	done

check-deploy: venv
	DEBUG=0 HTTPS=1 SECRET_KEY=$$(head -c 48 /dev/urandom | base64) ALLOWED_HOSTS=flattr.example \
	  $(PY) scripts/devctl.py exec -- $(PY) manage.py check --deploy --fail-level WARNING

clean:
	rm -rf .data staticfiles
