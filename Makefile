# videosearch developer tasks. `make help` lists them.
PYTHON ?= python3
VENV ?= .venv
PY := $(VENV)/bin/python
PROTO_SRC := protos
PROTO_OUT := services
PROTOS := $(sort $(shell find $(PROTO_SRC) -name "*.proto"))

.PHONY: help install protos protos-check test up demo demo-model bench-embedder bench-index bench-search bench-quality bench-moments bench-detectors chaos bench-load clean

help:
	@grep -E '^[a-z-]+:.*## ' $(MAKEFILE_LIST) | sed 's/:.*## /\t/'

$(PY):
	$(PYTHON) -m venv $(VENV)
	$(PY) -m pip install -q --upgrade pip

install: $(PY) ## Create .venv and install the project with pinned dependencies
	$(PY) -m pip install -q -r requirements.txt
	$(PY) -m pip install -q --no-deps -e .

protos: ## Regenerate services/videosearch/v1 from protos/ (never edit the output by hand)
	rm -f $(PROTO_OUT)/videosearch/v1/*_pb2*.py $(PROTO_OUT)/videosearch/v1/*_pb2*.pyi
	$(PY) -m grpc_tools.protoc -I $(PROTO_SRC) --python_out=$(PROTO_OUT) --pyi_out=$(PROTO_OUT) --grpc_python_out=$(PROTO_OUT) $(PROTOS)

protos-check: protos ## Fail when the generated code differs from what protos/ generates
	git diff --exit-code -- $(PROTO_OUT)/videosearch/v1

test: install ## Run the whole test suite (unit, integration, end-to-end)
	$(PY) -m pytest

up: install ## Start the three services locally (Ctrl-C stops them)
	$(PY) -m videosearch.launcher

clean:
	rm -rf .venv build *.egg-info

demo: install ## The main job: start everything with the offline demo model, index demo videos, search them
	$(PY) -m videosearch.demo.showcase

demo-model: install ## Retrain the offline demo CLIP into models/demo-clip (deterministic, about 6 minutes on 2 cores)
	$(PY) -m videosearch.demo.train --out models/demo-clip --seed 0
	$(PY) -m videosearch.demo.evaluate --model models/demo-clip --frames 500 --seed 12345 --record

bench-embedder: install ## Embedder throughput vs the compute ceiling and the article's one-image-per-call pipeline
	$(PY) bench/embedder/run.py --write-docs --plot

bench-index: install ## Indexing speed vs a re-implementation of the article's pipeline, and growth with video length
	$(PY) bench/index/run.py

bench-search: install ## Search latency, start-up and memory at 10k/100k/1M scenes, vs faiss
	$(PY) bench/search/run.py --sizes 10000,100000,1000000 --plot docs/search-latency.png --write-docs

bench-quality: install ## Retrieval quality on demo videos with the demo CLIP (R@1, R@5, MRR, IoU, cut recall)
	$(PY) bench/quality/run.py --write-docs

bench-moments: install ## Moment retrieval in long takes and hard-cut videos: the article's unit vs moments, side by side
	$(PY) bench/quality/moments.py --write-docs

bench-load: install ## 8 clients searching (text and vector) while index jobs run: p50/p99, errors (must be 0), memory growth per service
	$(PY) bench/load/run.py

chaos: install ## SIGKILL each service 50 times mid-work; counts lost writes, partial videos, orphan keys, failed restarts (all must be 0)
	$(PY) bench/chaos/run.py --kills 50

bench-detectors: install ## Cut precision, recall and F1 of each PySceneDetect detector on long takes with gradual transitions
	$(PY) bench/detectors/run.py --write-docs
