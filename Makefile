# The two commands of the README:  make demo  |  make test
VENV      ?= .venv
CORE_VENV ?= .venv-core
# The demo's mirror: the project's shared model folder when it sits beside the checkout.
MIRROR    ?= $(firstword $(wildcard ../shared/models))
ARGS      ?=

.PHONY: demo test test-full test-core venv clean eval parity build seed-models

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

# Accuracy of the real models on ../shared/data with both runtimes (about 15 minutes here).
eval: venv
	$(VENV)/bin/python -m slimocr_zoo.eval --data ../shared/data --mirror ../shared/models \
	    --e2e ch_PP-OCRv4_det+ch_PP-OCRv4_rec --out benchmarks/results/eval-cpu.json -q

# Our stages against PaddleOCR 2.7.3's own, in a separate environment (.venv-ref).
parity: venv
	scripts/venv-ref.sh .venv-ref
	$(VENV)/bin/python benchmarks/parity.py $(ARGS)

# Every recipe artifact (opt, prune, quant_post, synthetic weights): about 25 minutes here.
build: venv
	SLIMOCR_ZOO_DATA=../shared/data $(VENV)/bin/slimocr-zoo build --all --mirror ../shared/models

# The seed's models as built here: sizes, runs, det hmean (builds what is missing).
seed-models: venv
	SLIMOCR_ZOO_DATA=../shared/data $(VENV)/bin/python benchmarks/seed_models.py

clean:
	rm -rf $(VENV) $(CORE_VENV) .venv-ref build *.egg-info .pytest_cache
