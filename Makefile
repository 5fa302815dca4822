# Thin wrappers around scripts/course.py (which also works where make does not, e.g. Windows).
PYTHON ?= python3
COURSE := $(PYTHON) scripts/course.py

.PHONY: build test setup corpora book unit notebooks bench lint lock clean

build:      ## install everything, build the corpora and the book (README command 1)
	$(COURSE) build
test:       ## run every test and build the book in the quick profile (README command 2)
	$(COURSE) test
setup:      ## system packages + virtual environment only
	$(COURSE) setup
corpora:    ## build the offline corpora for $$AUDIOMAP_PROFILE
	$(COURSE) corpora
book:       ## build the book only
	$(COURSE) book
unit:       ## unit tests of audiomap_lib only
	$(COURSE) unit
notebooks:  ## nbval over the chapters only (quick profile)
	$(COURSE) notebooks
bench:      ## speed / memory benchmarks (print ratios)
	$(COURSE) bench
lint:       ## ruff and mypy (installed by setup)
	$(COURSE) lint
lock:       ## regenerate requirements.lock from pyproject.toml
	$(COURSE) lock
clean:
	rm -rf _build .pytest_cache
