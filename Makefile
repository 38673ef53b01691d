# The two commands of the README: `make demo` and `make test`. Both set up everything they need
# themselves (a venv with pinned tools from PyPI), so they work on a fresh machine.
SHELL := /bin/bash
.SHELLFLAGS := -eu -o pipefail -c
.DEFAULT_GOAL := help

PYTHON ?= python3.11
VENV ?= $(CURDIR)/.venv
BIN := $(VENV)/bin
# ansible-test only works on a collection that sits under ansible_collections/<ns>/<name>/, so every
# test stage runs in a fresh copy of the tree there (a symlink does not work: TOOLCHAIN.md gotcha 2).
# The copy must live outside this git checkout: inside it, ansible-test would ask the outer repo's git
# which files exist, find the copy ignored, and silently test nothing.
BUILD_DIR ?= $(or $(TMPDIR),/tmp)/cocalc-cocalc-build-$(shell printf '%s' '$(CURDIR)' | cksum | cut -d' ' -f1)
COLLECTION := $(BUILD_DIR)/ansible_collections/cocalc/cocalc
ANSIBLE_TEST = cd $(COLLECTION) && PATH=$(BIN):$$PATH ANSIBLE_COLLECTIONS_PATH=$(BUILD_DIR) $(BIN)/ansible-test
# Older ansible-core releases we support; `make test` runs sanity and units on each of them too.
MATRIX ?= 2.17.14 2.18.19
ERAS ?= 2024 guide
STAGES ?= sanity units server-tests integration awx lint docs matrix

.PHONY: help venv seed-get-pip collection sanity units server-tests integration awx lint docs matrix test demo bench clean

help:
	@echo "make demo   - start a local CoCalc server and provision an example course against it"
	@echo "make test   - sanity, unit, server and integration tests (both server eras), lint, docs, ansible-core matrix"
	@echo "make bench  - course provisioning benchmark against the local server"
	@echo "single stages: $(STAGES)"

$(VENV)/.installed: tests/utils/constraints-dev.txt
	$(PYTHON) -m venv $(VENV)
	$(BIN)/pip install --quiet --disable-pip-version-check -r tests/utils/constraints-dev.txt
	touch $@

venv: $(VENV)/.installed

seed-get-pip: venv
	$(BIN)/python tests/utils/seed_get_pip.py $(BIN)/python

# Copy what git tracks plus untracked files it does not ignore: the same tree a fresh clone would test.
collection:
	rm -rf $(BUILD_DIR) && mkdir -p $(COLLECTION)
	git ls-files -z -co --exclude-standard | while IFS= read -r -d '' f; do [ -e "$$f" ] && printf '%s\0' "$$f"; done \
		| tar -c --null -T - | tar -x -C $(COLLECTION)
	! git -C $(COLLECTION) rev-parse --git-dir >/dev/null 2>&1 || { echo "BUILD_DIR=$(BUILD_DIR) lies inside a git checkout: ansible-test would test nothing"; exit 1; }

sanity: seed-get-pip collection
	$(ANSIBLE_TEST) sanity --python 3.11 --local --color no

units: venv collection
	$(ANSIBLE_TEST) units --python 3.11 --local --color no

server-tests: venv
	$(BIN)/python -m pytest tests/server/tests -q -p no:cacheprovider

integration: venv collection
	PATH=$(BIN):$$PATH ANSIBLE_COLLECTIONS_PATH=$(BUILD_DIR) $(BIN)/python tests/utils/run_integration.py \
		--collection $(COLLECTION) $(foreach era,$(ERAS),--era $(era)) $(TARGETS)

# AWX-style run through ansible-runner (credentials injected as environment), plus EE introspection.
awx: venv collection
	PATH=$(BIN):$$PATH $(BIN)/python tests/utils/awx_smoke.py --collections $(BUILD_DIR)

lint: venv collection
	cd $(COLLECTION) && PATH=$(BIN):$$PATH ANSIBLE_COLLECTIONS_PATH=$(BUILD_DIR) $(BIN)/ansible-lint --nocolor
	cd $(COLLECTION) && PATH=$(BIN):$$PATH $(BIN)/antsibull-changelog lint

docs: venv collection
	cd $(COLLECTION) && PATH=$(BIN):$$PATH ANSIBLE_COLLECTIONS_PATH=$(BUILD_DIR) $(BIN)/antsibull-docs lint-collection-docs \
		--plugin-docs --validate-collection-refs=all --disallow-unknown-collection-refs .
	rm -rf $(BUILD_DIR)/dist $(BUILD_DIR)/installed
	cd $(COLLECTION) && $(BIN)/ansible-galaxy collection build --force --output-path $(BUILD_DIR)/dist . >/dev/null
	$(BIN)/ansible-galaxy collection install --offline -p $(BUILD_DIR)/installed $(BUILD_DIR)/dist/cocalc-cocalc-*.tar.gz >/dev/null
	for kind in module lookup connection inventory; do \
		for f in $(COLLECTION)/plugins/$${kind/module/modules}/*.py; do \
			[ -e "$$f" ] || continue; name=$$(basename $$f .py); \
			ANSIBLE_COLLECTIONS_PATH=$(BUILD_DIR)/installed $(BIN)/ansible-doc -t $$kind cocalc.cocalc.$$name >/dev/null \
				|| { echo "ansible-doc failed for $$kind cocalc.cocalc.$$name"; exit 1; }; \
			echo "ansible-doc renders $$kind cocalc.cocalc.$$name"; \
		done; \
	done

# Sanity and units on each older ansible-core, each in its own venv (2.19 is the main venv).
matrix: collection
	for version in $(MATRIX); do \
		venv=$(CURDIR)/.venv-$$version; \
		[ -x $$venv/bin/ansible-test ] || { $(PYTHON) -m venv $$venv && $$venv/bin/pip install --quiet --disable-pip-version-check \
			ansible-core==$$version requests==2.34.2 pytest==9.2.0 pytest-xdist==3.8.0 pytest-mock==3.17.0; }; \
		$$venv/bin/python tests/utils/seed_get_pip.py $$venv/bin/python; \
		echo "=== ansible-core $$version: sanity"; \
		(cd $(COLLECTION) && PATH=$$venv/bin:$$PATH ANSIBLE_COLLECTIONS_PATH=$(BUILD_DIR) $$venv/bin/ansible-test sanity --python 3.11 --local --color no); \
		echo "=== ansible-core $$version: units"; \
		(cd $(COLLECTION) && PATH=$$venv/bin:$$PATH ANSIBLE_COLLECTIONS_PATH=$(BUILD_DIR) $$venv/bin/ansible-test units --python 3.11 --local --color no); \
	done

# The README demo: the local server in a temp dir, an example course of 30 students provisioned twice
# (the second run must report changed=0), a summary, and the server stopped whatever happens.
demo: venv collection
	PATH=$(BIN):$$PATH ANSIBLE_COLLECTIONS_PATH=$(BUILD_DIR) $(BIN)/python tests/utils/demo.py --collection $(COLLECTION)

# Course provisioning benchmark (numbers, not a test): the collection vs a hand-written requests script vs a
# naive ansible.builtin.uri playbook, N=30 and N=200, without and with the real hub's latency.
bench: venv collection
	PATH=$(BIN):$$PATH ANSIBLE_COLLECTIONS_PATH=$(BUILD_DIR) $(BIN)/python bench/run_bench.py --collection $(COLLECTION) $(BENCH_ARGS)

# Every stage runs even when an earlier one failed, so one run shows every problem; the exit code is
# non-zero if any failed. The last line is a plain "N passed, N failed" count of the stages.
test: venv
	passed=0; failed=0; failures=""; \
	for stage in $(STAGES); do \
		start=$$(date +%s); echo "=== stage $$stage"; \
		if $(MAKE) --no-print-directory $$stage; then passed=$$((passed+1)); result=ok; \
		else failed=$$((failed+1)); failures="$$failures $$stage"; result=FAILED; fi; \
		echo "=== stage $$stage: $$result in $$(( $$(date +%s) - start )) s"; \
	done; \
	[ -z "$$failures" ] || echo "failed stages:$$failures"; \
	echo "stages: $$passed passed, $$failed failed"; \
	[ $$failed -eq 0 ]

clean:
	rm -rf $(BUILD_DIR) tests/output
