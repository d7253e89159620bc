# The two commands of the README:  make demo  |  make test
VENV      ?= .venv
CORE_VENV ?= .venv-core
# The demo's mirror: the project's shared model folder when it sits beside the checkout.
MIRROR    ?= $(firstword $(wildcard ../shared/models))
ARGS      ?=

.PHONY: demo test test-full test-core venv clean

venv:
	@scripts/venv.sh $(VENV) all,test

demo: venv
	$(VENV)/bin/slimocr-zoo list
	$(VENV)/bin/slimocr-zoo download --all --require-pinned $(if $(MIRROR),--mirror $(MIRROR)) $(ARGS)

test: test-full test-core

# Python 3.10 with paddle and paddlelite: the whole suite.
test-full: venv
	$(VENV)/bin/python -m pytest -q $(ARGS)

# The core (manifest, registry, fetch, CLI) on the newest CPython here, without Paddle.
test-core:
	@py=""; for v in 3.13 3.12 3.11; do \
	    if scripts/venv.sh $(CORE_VENV) test $$v 2>/dev/null; then py=$$v; break; fi; done; \
	if [ -z "$$py" ]; then echo "test-core: no CPython 3.11-3.13 found; skipped"; exit 0; fi; \
	echo "core tests on Python $$py without Paddle"; \
	$(CORE_VENV)/bin/python -m pytest -q -m "not paddle" $(ARGS)

clean:
	rm -rf $(VENV) $(CORE_VENV) build *.egg-info .pytest_cache
