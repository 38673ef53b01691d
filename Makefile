# The two commands of the README: `make demo` and `make test`. Both set up everything they need
# themselves (a venv with pinned tools from PyPI), so they work on a fresh machine.
SHELL := /bin/bash
.SHELLFLAGS := -eu -o pipefail -c
.DEFAULT_GOAL := help

# The tested ansible-core releases and their Pythons live in ONE place, tests/utils/versions: its first
# line is the main toolchain (.venv), the others are the matrix, the last one the oldest.
VERSIONS_FILE := tests/utils/versions
VERSIONS := $(shell awk '!/^[[:space:]]*(\#|$$)/ {print $$1}' $(VERSIONS_FILE))
MAIN_CORE := $(firstword $(VERSIONS))
OLDEST_CORE := $(lastword $(VERSIONS))
pythons_for = $(shell awk '$$1 == "$(1)" {$$1 = ""; print}' $(VERSIONS_FILE))
find_python = $(shell tests/utils/find_python.sh $(call pythons_for,$(1)))
# The main venv's interpreter: the first working Python of the main line (PYTHON=... overrides).
PYTHON ?= $(call find_python,$(MAIN_CORE))
VENV ?= $(CURDIR)/.venv
BIN := $(VENV)/bin
# X.Y of the venv's Python, for `ansible-test --python` (read when a recipe runs, after the venv exists).
PYVER = $(shell $(BIN)/python -c 'import sys; print("%d.%d" % sys.version_info[:2])')
# ansible-test only works on a collection that sits under ansible_collections/<ns>/<name>/, so every
# test stage runs in a fresh copy of the tree there (a symlink does not work: TOOLCHAIN.md gotcha 2).
# The copy must live outside this git checkout: inside it, ansible-test would ask the outer repo's git
# which files exist, find the copy ignored, and silently test nothing.
BUILD_DIR ?= $(or $(TMPDIR),/tmp)/cocalc-cocalc-build-$(shell printf '%s' '$(CURDIR)' | cksum | cut -d' ' -f1)
COLLECTION := $(BUILD_DIR)/ansible_collections/cocalc/cocalc
ANSIBLE_TEST = cd $(COLLECTION) && PATH=$(BIN):$$PATH ANSIBLE_COLLECTIONS_PATH=$(BUILD_DIR) $(BIN)/ansible-test
# The older ansible-core releases for `make matrix` (sanity and units each; the oldest also integration).
MATRIX ?= $(wordlist 2,$(words $(VERSIONS)),$(VERSIONS))
MATRIX_INTEGRATION ?= $(OLDEST_CORE)
# One era on the oldest core keeps `make test` near 25 minutes on 2 cores; the main stage runs every era, and
# `make matrix MATRIX_ERAS="2024 guide"` runs them all on the oldest too.
MATRIX_ERAS ?= 2024
# pylint runs in the main sanity stage with the newest rule set; on the older releases it would only repeat
# that on the same code, and it is the slowest sanity test (tests/utils/matrix.py).
MATRIX_SANITY_SKIP ?= pylint
# The local server's eras for the integration stage: 2024 and guide speak API v1, 2026 the current API
# (api/v2 + conat). `make integration ERAS=2026` runs the current one alone.
ERAS ?= 2024 guide 2026
# The single stages (each also a make target). `make test` runs them in the lanes of TEST_LANES at the same
# time (tests/utils/run_stages.py): the integration suites mostly wait for project starts while the other
# stages compute. The stages of one lane run one after another; matrix = matrix-checks + matrix-integration.
STAGES ?= sanity units server-tests integration awx lint docs matrix
TEST_LANES ?= integration | sanity units awx lint docs matrix-checks | matrix-integration server-tests
# Each stage's output of `make test` goes to its own file here (printed whole when the stage fails).
LOG_DIR ?= $(CURDIR)/tests/output/make-test

.PHONY: help venv sandbox-tools seed-get-pip collection sanity units server-tests integration awx lint dist docs docs-lint docs-site galaxy-importer matrix matrix-venvs matrix-checks matrix-integration changelog-release test test-prepare demo bench clean

help:
	@echo "make demo   - start a local CoCalc server (ERA=2026, the default, or 2024 / guide) and provision an example course against it"
	@echo "make test   - sanity, unit, server and integration tests (ERAS: $(ERAS)), lint, docs (site, galaxy-importer), ansible-core matrix,"
	@echo "              in the lanes of TEST_LANES at the same time; each stage's log in $(LOG_DIR)"
	@echo "make bench  - course provisioning benchmark against the local server (BENCH=hosts: projects as hosts)"
	@echo "single stages: $(STAGES)"
	@echo "also: docs-site, galaxy-importer, changelog-release VERSION=X.Y.Z"
	@echo "main toolchain: ansible-core $(MAIN_CORE) on $(or $(PYTHON),NO PYTHON FOUND); matrix: $(MATRIX) (tests/utils/versions)"

# Rebuilt from scratch when the pins change (an old venv may be on another Python).
$(VENV)/.installed: $(VERSIONS_FILE) tests/utils/constraints-dev.txt
	@[ -n "$(PYTHON)" ] || { tests/utils/find_python.sh --explain $(call pythons_for,$(MAIN_CORE)) || true; \
		echo "ansible-core $(MAIN_CORE) needs one of Python $(call pythons_for,$(MAIN_CORE)); set PYTHON=/path/to/python to choose one"; exit 1; }
	@tests/utils/find_python.sh --explain $(call pythons_for,$(MAIN_CORE)) >/dev/null || true
	rm -rf $(VENV)
	$(PYTHON) -m venv $(VENV)
	$(BIN)/pip install --quiet --disable-pip-version-check ansible-core==$(MAIN_CORE) -r tests/utils/constraints-dev.txt
	$(BIN)/pip check
	@echo "main toolchain: ansible-core $(MAIN_CORE) on $$($(BIN)/python -V) ($(PYTHON))"
	touch $@

venv: $(VENV)/.installed sandbox-tools

# As root, the local server confines projects with bubblewrap + setpriv (tests/server/README.md) and
# refuses to start without them: install bubblewrap on a fresh Debian/Ubuntu machine.
sandbox-tools:
	@if [ "$$(id -u)" = 0 ] && ! command -v bwrap >/dev/null; then \
		echo "installing bubblewrap (the local server confines projects with it when run as root)"; \
		DEBIAN_FRONTEND=noninteractive apt-get install -y -q bubblewrap >/dev/null 2>&1 \
		|| { apt-get update -q >/dev/null && DEBIAN_FRONTEND=noninteractive apt-get install -y -q bubblewrap >/dev/null; }; \
	fi

seed-get-pip: venv
	$(BIN)/python tests/utils/seed_get_pip.py $(BIN)/python

# Copy what git tracks plus untracked files it does not ignore: the same tree a fresh clone would test.
# `make test` builds it once before its lanes start and then sets COLLECTION_READY=1, so that stages running
# at the same time do not delete it under each other.
collection:
ifeq ($(COLLECTION_READY),1)
	@[ -e $(COLLECTION)/galaxy.yml ] || { echo "COLLECTION_READY=1 but $(COLLECTION) was not built"; exit 1; }
else
	rm -rf $(BUILD_DIR) && mkdir -p $(COLLECTION)
	git ls-files -z -co --exclude-standard | while IFS= read -r -d '' f; do [ -e "$$f" ] && printf '%s\0' "$$f"; done \
		| tar -c --null -T - | tar -x -C $(COLLECTION)
	! git -C $(COLLECTION) rev-parse --git-dir >/dev/null 2>&1 || { echo "BUILD_DIR=$(BUILD_DIR) lies inside a git checkout: ansible-test would test nothing"; exit 1; }
endif

sanity: seed-get-pip collection
	$(ANSIBLE_TEST) sanity --python $(PYVER) --local --color no

units: venv collection
	$(ANSIBLE_TEST) units --python $(PYVER) --local --color no

server-tests: venv
	$(BIN)/python -m pytest tests/server/tests -q -p no:cacheprovider

integration: venv collection
	PATH=$(BIN):$$PATH ANSIBLE_COLLECTIONS_PATH=$(BUILD_DIR) $(BIN)/python tests/utils/run_integration.py \
		--collection $(COLLECTION) $(foreach era,$(ERAS),--era $(era)) $(if $(COLLECTION_READY),--log-dir $(LOG_DIR)) $(TARGETS)

# AWX-style run through ansible-runner (credentials injected as environment), plus EE introspection.
awx: venv collection
	PATH=$(BIN):$$PATH $(BIN)/python tests/utils/awx_smoke.py --collections $(BUILD_DIR)

lint: venv collection
	cd $(COLLECTION) && PATH=$(BIN):$$PATH ANSIBLE_COLLECTIONS_PATH=$(BUILD_DIR) $(BIN)/ansible-lint --nocolor
	cd $(COLLECTION) && PATH=$(BIN):$$PATH $(BIN)/antsibull-changelog lint

# The built collection, installed the way users get it: the docs checks below work on this, not on the tree.
dist: venv collection
	rm -rf $(BUILD_DIR)/dist $(BUILD_DIR)/installed
	cd $(COLLECTION) && $(BIN)/ansible-galaxy collection build --force --output-path $(BUILD_DIR)/dist . >/dev/null
	$(BIN)/ansible-galaxy collection install --offline -p $(BUILD_DIR)/installed $(BUILD_DIR)/dist/cocalc-cocalc-*.tar.gz >/dev/null

docs: docs-lint docs-site galaxy-importer

docs-lint: venv collection dist
	cd $(COLLECTION) && PATH=$(BIN):$$PATH ANSIBLE_COLLECTIONS_PATH=$(BUILD_DIR) $(BIN)/antsibull-docs lint-collection-docs \
		--plugin-docs --validate-collection-refs=all --disallow-unknown-collection-refs .
	for kind in module lookup connection inventory; do \
		for f in $(COLLECTION)/plugins/$${kind/module/modules}/*.py; do \
			[ -e "$$f" ] || continue; name=$$(basename $$f .py); \
			ANSIBLE_COLLECTIONS_PATH=$(BUILD_DIR)/installed $(BIN)/ansible-doc -t $$kind cocalc.cocalc.$$name >/dev/null \
				|| { echo "ansible-doc failed for $$kind cocalc.cocalc.$$name"; exit 1; }; \
			echo "ansible-doc renders $$kind cocalc.cocalc.$$name"; \
		done; \
	done

# The HTML docs site of the built collection (antsibull-docs + Sphinx, no warnings), checked in headless Chromium.
docs-site: venv dist
	PATH=$(BIN):$$PATH $(BIN)/python tests/utils/docs_site.py --collections $(BUILD_DIR)/installed --dest $(BUILD_DIR)/docs-site
	@echo "docs site: $(BUILD_DIR)/docs-site/build/html/index.html"

# Galaxy's own import checks on the built tarball. It exits 0 on findings (printed as WARNING lines), so any
# ERROR or WARNING line fails here.
galaxy-importer: venv dist
	rm -rf $(BUILD_DIR)/importer && mkdir -p $(BUILD_DIR)/importer
	cd $(BUILD_DIR)/importer && PATH=$(BIN):$$PATH $(BIN)/python -m galaxy_importer.main $(BUILD_DIR)/dist/cocalc-cocalc-*.tar.gz 2>&1 | tee importer.log
	! grep -E '^(ERROR|WARNING)' $(BUILD_DIR)/importer/importer.log || { echo "galaxy-importer: the ERROR/WARNING lines above fail the stage"; exit 1; }

# Sanity and units on each older ansible-core of tests/utils/versions, each in its own venv on a Python it
# supports (the main release runs in the main stages), and the integration suite on the oldest one.
MATRIX_PY = $(BIN)/python tests/utils/matrix.py --collection $(COLLECTION) --build-dir $(BUILD_DIR) \
	$(foreach era,$(MATRIX_ERAS),--era $(era)) $(foreach test,$(MATRIX_SANITY_SKIP),--sanity-skip $(test))
matrix: venv collection
	$(MATRIX_PY) --cores "$(MATRIX)" --integration "$(MATRIX_INTEGRATION)"

# The same in parts, for `make test`'s lanes: every matrix venv at once (before the lanes start), the checks
# (sanity and units on every older release), and the integration suite on the oldest.
matrix-venvs:
	@[ -n "$(PYTHON)" ] || { echo "no Python for the main toolchain (see make help)"; exit 1; }
	$(PYTHON) tests/utils/matrix.py --collection $(COLLECTION) --build-dir $(BUILD_DIR) --prepare --cores "$(MATRIX)" --integration "$(MATRIX_INTEGRATION)"

matrix-checks: venv collection
	$(MATRIX_PY) --cores "$(MATRIX)" --stages sanity,units $(if $(COLLECTION_READY),--log-dir $(LOG_DIR))

matrix-integration: venv collection
	$(MATRIX_PY) --cores "$(MATRIX_INTEGRATION)" --integration "$(MATRIX_INTEGRATION)" --stages integration $(if $(COLLECTION_READY),--log-dir $(LOG_DIR))

# Release prep (not a publish): galaxy.yml and the client's User-Agent get VERSION, and antsibull-changelog turns every fragment into the
# VERSION section of changelogs/changelog.yaml and CHANGELOG.rst (fragments are removed, keep_fragments: false).
# Run it last, after every branch with fragments is merged: `make changelog-release VERSION=0.2.0`.
changelog-release: venv collection
	@[ -n "$(VERSION)" ] || { echo "usage: make changelog-release VERSION=X.Y.Z"; exit 1; }
	sed -i 's/^version: .*/version: $(VERSION)/' galaxy.yml
	sed -i "s/^COLLECTION_VERSION = .*/COLLECTION_VERSION = '$(VERSION)'/" plugins/module_utils/_api.py  # the User-Agent; a unit test keeps it equal
	PATH=$(BIN):$$PATH ANSIBLE_COLLECTIONS_PATH=$(BUILD_DIR) $(BIN)/antsibull-changelog release --version $(VERSION) $(if $(DATE),--date $(DATE))
	PATH=$(BIN):$$PATH $(BIN)/antsibull-changelog lint

# The README demo: the local server in a temp dir, an example course of 30 students provisioned twice
# (the second run must report changed=0), a summary, and the server stopped whatever happens.
# ERA=2026 (current CoCalc, the default), ERA=2024 or ERA=guide (API v1).
ERA ?= 2026
demo: venv collection
	PATH=$(BIN):$$PATH ANSIBLE_COLLECTIONS_PATH=$(BUILD_DIR) $(BIN)/python tests/utils/demo.py --collection $(COLLECTION) --era $(ERA)

# Benchmarks (numbers, not tests), chosen with BENCH (default course; BENCH=hosts or BENCH="course hosts"):
# course: provisioning, the collection vs a hand-written requests script vs a naive ansible.builtin.uri playbook,
#   N=30 and N=200, without and with the real hub's latency (BENCH_ARGS);
# hosts: projects as hosts, a copy + command play over 30 projects through the connection plugin vs the same
#   work through cocalc_file/cocalc_exec, forks 1, 8 and 16 (HOSTS_BENCH_ARGS, e.g. "--pipelining off,on --cold").
BENCH ?= course
bench: venv collection
	$(if $(filter course,$(BENCH)),PATH=$(BIN):$$PATH ANSIBLE_COLLECTIONS_PATH=$(BUILD_DIR) $(BIN)/python bench/run_bench.py --collection $(COLLECTION) $(BENCH_ARGS))
	$(if $(filter hosts,$(BENCH)),PATH=$(BIN):$$PATH ANSIBLE_COLLECTIONS_PATH=$(BUILD_DIR) $(BIN)/python bench/hosts_bench.py --collection $(COLLECTION) $(HOSTS_BENCH_ARGS))

# The main venv and every matrix venv built at the same time, then the collection copy once.
test-prepare:
	$(MAKE) --no-print-directory -j2 venv matrix-venvs
	$(MAKE) --no-print-directory collection

# Every stage of STAGES, in the lanes of TEST_LANES at the same time; each stage runs even when an earlier
# one failed, so one run shows every problem. Each stage's output is in LOG_DIR/<stage>.log (printed when
# it fails); the end is a table of stage seconds and a plain "N passed, N failed" count of the stages.
test:
	start=$$(date +%s); rm -rf $(LOG_DIR); mkdir -p $(LOG_DIR); \
	$(MAKE) --no-print-directory test-prepare > $(LOG_DIR)/prepare.log 2>&1 \
		|| { cat $(LOG_DIR)/prepare.log; echo "make test: preparing the venvs and the collection failed"; exit 1; }; \
	echo "=== prepared the venvs and the collection in $$(( $$(date +%s) - start )) s (log: $(LOG_DIR)/prepare.log)"; \
	IFS='|' read -ra lanes <<< "$(TEST_LANES)"; lane_args=(); for lane in "$${lanes[@]}"; do lane_args+=(--lane "$$lane"); done; \
	rc=0; $(BIN)/python tests/utils/run_stages.py --log-dir $(LOG_DIR) \
		--make "$(MAKE) --no-print-directory COLLECTION_READY=1 LOG_DIR=$(LOG_DIR)" "$${lane_args[@]}" || rc=$$?; \
	echo "make test: $$(( $$(date +%s) - start )) s in all, venvs and collection included"; exit $$rc

clean:
	rm -rf $(BUILD_DIR) tests/output
