# The two commands newcomers need: `make run` and `make test`.
PYTHON ?= python3
VENV := .venv
PY := $(VENV)/bin/python
STAMP := $(VENV)/.installed-$(shell cksum pyproject.toml | cut -d' ' -f1)
PYTEST_ARGS ?=

.PHONY: run test venv lint fmt messages check-deploy bench clean

venv: $(STAMP)

$(STAMP): pyproject.toml
	@test -x $(PY) || $(PYTHON) -m venv $(VENV)
	$(PY) -m pip install --quiet --upgrade pip
	$(PY) -m pip install --quiet -e '.[dev]'
	@rm -f $(VENV)/.installed-*
	@touch $@

run: venv
	exec $(PY) scripts/devctl.py run

test: venv
	$(PY) scripts/devctl.py exec -- $(PY) -m pytest $(PYTEST_ARGS)

lint: venv
	$(VENV)/bin/ruff check .
	$(VENV)/bin/ruff format --check .

fmt: venv
	$(VENV)/bin/ruff format .
	$(VENV)/bin/ruff check --fix .

# Needs gettext (apt install gettext). The compiled .mo files are committed.
messages: venv
	$(PY) scripts/devctl.py exec -- $(PY) manage.py makemessages -l fr --no-obsolete --ignore '.venv/*' --ignore '.data/*'
	$(PY) scripts/devctl.py exec -- $(PY) manage.py makemessages -d djangojs -l fr --no-obsolete --ignore '.venv/*' --ignore '.data/*' --ignore 'staticfiles/*'
	$(PY) scripts/devctl.py exec -- $(PY) manage.py compilemessages --ignore '.venv/*'

check-deploy: venv
	DEBUG=0 HTTPS=1 SECRET_KEY=$$(head -c 48 /dev/urandom | base64) ALLOWED_HOSTS=flattr.example \
	  $(PY) scripts/devctl.py exec -- $(PY) manage.py check --deploy --fail-level WARNING

clean:
	rm -rf .data staticfiles
