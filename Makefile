# NeuroTriage: the two commands are `make demo` and `make test` (see README.md).
SHELL := /bin/bash
PYTHON ?= python3.11
VENV := .venv
BIN := $(VENV)/bin
# CPU build of PyTorch for local and CI installs; an open range would pull gigabytes of CUDA packages.
TORCH := torch==2.13.0
DEMO_SCANS := var/demo-scans
DEMO_PORT ?= 8000
CHROMIUM ?= /usr/bin/chromium

.PHONY: demo test venv lock frontend check-services system-deps openapi clean-demo

$(BIN)/.installed: ml/pyproject.toml backend/pyproject.toml constraints.txt
	@command -v $(PYTHON) >/dev/null || { echo "make: $(PYTHON) not found; install Python 3.11 or run make PYTHON=python3.x"; exit 1; }
	test -x $(BIN)/python || $(PYTHON) -m venv $(VENV)
	$(BIN)/pip install --quiet --upgrade pip
	$(BIN)/pip install --quiet -c constraints.txt $(TORCH) -e ./ml -e './backend[test]'
	touch $@

venv: $(BIN)/.installed

# Re-pin constraints.txt: the newest versions the two pyproject files allow, resolved in a scratch venv. Run
# make test afterwards (it reinstalls .venv from the new pins) before committing the file.
LOCK_VENV := var/lock-venv
lock:
	rm -rf $(LOCK_VENV) && $(PYTHON) -m venv $(LOCK_VENV)
	$(LOCK_VENV)/bin/pip install --quiet --upgrade pip
	$(LOCK_VENV)/bin/pip install --quiet $(TORCH) ./ml './backend[test]'
	{ sed -n '1,/^# torch is left out/p' constraints.txt; \
	  $(LOCK_VENV)/bin/pip freeze --exclude-editable | grep -v -i -E '^(torch|itermask3d|neurotriage)( @|==)'; } > constraints.txt.new
	mv constraints.txt.new constraints.txt && rm -rf $(LOCK_VENV)

frontend/node_modules/.installed: frontend/package.json frontend/package-lock.json $(wildcard frontend/patches/*.patch)
	cd frontend && npm ci --no-audit --no-fund
	touch $@

frontend/dist/index.html: frontend/node_modules/.installed $(shell find frontend/src frontend/index.html frontend/vite.config.ts -type f 2>/dev/null)
	cd frontend && npm run build

frontend: frontend/dist/index.html

# Regenerate the OpenAPI document and the frontend's typed client after changing the API.
openapi: venv frontend/node_modules/.installed
	$(BIN)/python -m neurotriage.openapi_export frontend/openapi.json
	cd frontend && npm run gen:api

demo: venv frontend
	$(BIN)/neurotriage migrate
	$(BIN)/itermask3d synth --out $(DEMO_SCANS)/t1 --kinds normal,lesion,artefact --count 1 --sequence t1 --seed 7
	$(BIN)/itermask3d synth --out $(DEMO_SCANS)/flair --kinds normal,lesion,artefact --count 1 --sequence flair --seed 7
	$(BIN)/neurotriage demo-seed --scans $(DEMO_SCANS) --url http://127.0.0.1:$(DEMO_PORT)
	@echo "starting the worker and the server (Ctrl-C stops both)"
	@$(BIN)/neurotriage worker --queues gpu,default --concurrency 1 --beat --schedule-file var/celerybeat-schedule > var/worker.log 2>&1 & \
	  worker=$$!; trap "kill $$worker 2>/dev/null; wait $$worker 2>/dev/null" EXIT INT TERM; \
	  echo "worker log: var/worker.log"; \
	  $(BIN)/neurotriage serve --host 127.0.0.1 --port $(DEMO_PORT)

clean-demo:
	rm -rf var

check-services: venv
	$(BIN)/python scripts/check_services.py

# Debian's Chromium (browser tests) and dcm2niix (reference for the DICOM conversion test).
system-deps:
	@if [ -x $(CHROMIUM) ] && command -v dcm2niix >/dev/null; then exit 0; fi; \
	if [ "$$(id -u)" = 0 ] && command -v apt-get >/dev/null; then \
	  echo "installing Debian's chromium and dcm2niix for the tests"; \
	  apt-get update -qq && DEBIAN_FRONTEND=noninteractive apt-get install -y -qq chromium dcm2niix >/dev/null; \
	else echo "make test needs Chromium and dcm2niix: sudo apt-get install chromium dcm2niix"; exit 1; fi

test: venv frontend check-services system-deps
	cd frontend && npm test
	$(BIN)/python -m pytest
