# The two commands a newcomer needs: `make run` and `make test`. See README.md.
PYTHON ?= python3
VENV ?= .venv
BIN := $(VENV)/bin
export DJANGO_SETTINGS_MODULE := journalism.settings

.PHONY: run test lint format messages bench clean

$(BIN)/python:
	$(PYTHON) -m venv $(VENV)
	$(BIN)/python -m pip install --quiet --upgrade pip

$(VENV)/.installed: requirements.txt $(BIN)/python
	$(BIN)/pip install --quiet -r requirements.txt
	touch $@

$(VENV)/.installed-dev: requirements.txt requirements-dev.txt package.json $(BIN)/python
	$(BIN)/pip install --quiet -r requirements-dev.txt
	# axe-core for the browser tests' accessibility checks (skipped with a notice without npm).
	if command -v npm >/dev/null; then npm ci --no-audit --no-fund --silent; fi
	touch $@

## Run the site with demo content on http://127.0.0.1:8000 (offline sandbox checkout, no Stripe account needed).
run: $(VENV)/.installed
	DEBUG=$${DEBUG:-1} $(BIN)/python manage.py migrate --no-input
	DEBUG=$${DEBUG:-1} $(BIN)/python manage.py demo
	DEBUG=$${DEBUG:-1} $(BIN)/python manage.py runserver 127.0.0.1:8000

## Run every test (SQLite by default; set DATABASE_URL=postgres://... for PostgreSQL).
test: $(VENV)/.installed-dev
	$(BIN)/python -m pytest $(PYTEST_ARGS)

lint: $(VENV)/.installed-dev
	$(BIN)/ruff check .
	$(BIN)/ruff format --check .

format: $(VENV)/.installed-dev
	$(BIN)/ruff check --fix .
	$(BIN)/ruff format .

## Refresh the translation catalogues after changing interface strings, then compile them.
messages: $(VENV)/.installed-dev
	# Scripts take their texts from data attributes the server renders, so there is no djangojs catalogue.
	DEBUG=1 $(BIN)/python manage.py makemessages -l nl -l en --no-obsolete \
		--ignore=.venv --ignore=tests --ignore=bench --ignore=node_modules --ignore=staticfiles
	DEBUG=1 $(BIN)/python manage.py compilemessages --ignore=.venv

## Fill PostgreSQL once (1,000,000 appreciations) and measure nginx, gunicorn, the panel and webhooks on 127.0.0.1.
## BENCH_DATABASE_URL picks the database; BENCH_FILL_ARGS=--refill fills again; results in bench/results/.
bench: $(VENV)/.installed
	$(BIN)/python bench/fill.py $(BENCH_FILL_ARGS)
	$(BIN)/python bench/run.py $(BENCH_ARGS)

clean:
	rm -rf $(VENV) staticfiles .pytest_cache .ruff_cache
