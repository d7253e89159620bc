# The two commands of the README:  make demo  |  make test
VENV      ?= .venv
CORE_VENV ?= .venv-core
# The demo's mirror: the project's shared model folder when it sits beside the checkout.
MIRROR    ?= $(firstword $(wildcard ../shared/models))
DATA      ?= $(firstword $(wildcard ../shared/data))
ARGS      ?=
# The committed results the README's tables are made from (python -m slimocr_zoo.report).
RESULTS   = benchmarks/results/bench-cpu-paddle.json benchmarks/results/bench-sd855-emulated.json
REPORT    = $(VENV)/bin/python -m slimocr_zoo.report $(RESULTS) --readme README.md README_zh.md \
            --plot benchmarks/e2e-vs-accuracy.png
ZOO_ENV   = $(if $(MIRROR),SLIMOCR_ZOO_MIRROR=$(MIRROR)) $(if $(DATA),SLIMOCR_ZOO_DATA=$(DATA))

.PHONY: demo test test-full test-core venv clean eval eval-bf16 parity build seed-models ppocrv4-models adb bench-cpu bench-emulated report perf perf-quick

venv:
	@scripts/venv.sh $(VENV) all,test

# The main job: the seed's configurations 0-3 timed on this machine (--quick), then the report of
# those results. What upstream never published is built on first use when that is short; rows whose
# models train (qat, distill: tens of minutes) are listed with the command that builds them.
demo: venv
	$(ZOO_ENV) $(VENV)/bin/python -m slimocr_zoo.bench --device cpu --quick --out build/demo/bench-cpu-quick.json $(ARGS)
	$(VENV)/bin/python -m slimocr_zoo.report build/demo/bench-cpu-quick.json --plot build/demo/e2e-vs-accuracy.png
	@echo "paddle's and PaddleSlim's own output went to $$($(VENV)/bin/python -c 'from slimocr_zoo.settings import native_log; print(native_log())') (runtimes) and to each build's log (slimocr-zoo info ID names it); -v shows it here"

test: test-full test-core

# Python 3.10 with paddle and paddlelite: the whole suite.
test-full: venv adb
	$(VENV)/bin/python -m pytest -q $(ARGS)
	$(REPORT) --check

adb:
	@scripts/install-adb.sh

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

# The same in oneDNN bfloat16 (CPUs with AVX512-BF16/AMX): what precision='bf16' costs in accuracy.
eval-bf16: venv
	$(VENV)/bin/python -m slimocr_zoo.eval --data ../shared/data --mirror ../shared/models \
	    --models MobileNetV3_DB ch_PP-OCRv4_det ch_PP-OCRv4_rec --runtime paddle --precision bf16 \
	    --e2e ch_PP-OCRv4_det+ch_PP-OCRv4_rec --out benchmarks/results/eval-cpu-bf16.json -q

# Our stages against PaddleOCR 2.7.3's own, in a separate environment (.venv-ref).
parity: venv
	scripts/venv-ref.sh .venv-ref
	$(VENV)/bin/python benchmarks/parity.py $(ARGS)

# Every recipe artifact (opt, prune, quant_post, qat, distill, synthetic weights): about two hours here.
build: venv
	SLIMOCR_ZOO_DATA=../shared/data $(VENV)/bin/slimocr-zoo build --all --mirror ../shared/models

# The seed's models as built here: sizes, runs, det hmean (builds what is missing: about an hour the first time).
seed-models: venv
	SLIMOCR_ZOO_DATA=../shared/data $(VENV)/bin/python benchmarks/seed_models.py

# PP-OCRv4 rows 4-7 (float / QAT / pruned / pruned + QAT, det and rec) as built here: sizes, det hmean,
# rec accuracy, words found end-to-end (builds what is missing: about two hours the first time).
ppocrv4-models: venv
	SLIMOCR_ZOO_DATA=../shared/data $(VENV)/bin/python benchmarks/seed_models.py --configs 4 5 6 7 \
	    --out benchmarks/results/ppocrv4-models.json

# The full CPU protocol behind the README's measured table (about 15 minutes here).
bench-cpu: venv
	$(ZOO_ENV) $(VENV)/bin/python -m slimocr_zoo.bench --device cpu -q $(ARGS)

# The phone benchmark through the real adb against the emulated phone (tests/phone), --quick.
bench-emulated: venv adb
	$(ZOO_ENV) scripts/bench-emulated.sh --quick -q --configs 0 1 2 3 ch_PP-OCRv4_det+ch_PP-OCRv4_rec \
	    --out benchmarks/results/bench-sd855-emulated.json $(ARGS)

# README.md / README_zh.md tables and the plot, from the committed results.
report: venv
	$(REPORT)

# Performance against the anchors (curl, RapidOCR in .venv-rapid): benchmarks/results/perf/*.json|md.
# About 20 minutes here; perf-quick under ten. quant_x86 builds the pruned detectors if missing; int8
# times the int8 models that are built (the rest are listed with their build command).
PERF = download load overhead quant_x86 fold int8 e2e
perf: venv
	scripts/venv-rapid.sh .venv-rapid
	@set -e; for s in $(PERF); do echo "== $$s"; $(ZOO_ENV) $(VENV)/bin/python benchmarks/perf/$$s.py $(ARGS); done

perf-quick:
	$(MAKE) perf ARGS=--quick

clean:
	rm -rf $(VENV) $(CORE_VENV) .venv-ref build *.egg-info .pytest_cache
