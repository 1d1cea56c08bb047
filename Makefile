# videosearch developer tasks. `make help` lists them.
PYTHON ?= python3
VENV ?= .venv
PY := $(VENV)/bin/python
PROTO_SRC := protos
PROTO_OUT := services
PROTOS := $(sort $(shell find $(PROTO_SRC) -name "*.proto"))
BUF := tools/node_modules/.bin/buf
# The proto baseline buf breaking checks against: the last released state of the protos.
RELEASED_PROTOS := protos/released/videosearch-v1.binpb
# npm ci once per lockfile change: npm writes node_modules/.package-lock.json when it installs.
NODE_DEPS := tools/node_modules/.package-lock.json clients/node/node_modules/.package-lock.json \
	clients/typescript/node_modules/.package-lock.json

.PHONY: ts-client browser-deps text-deps screenshots help install node-deps protos protos-check proto-lint proto-release lint format test test-fast up demo demo-model demo-speech-model bench-embedder bench-embedder-gpu bench-index bench-gpu-decode bench-many bench-decoders bench-search bench-ten-million bench-quality bench-text bench-moments bench-detectors chaos bench-load bench-index-memory clean

help:
	@grep -E '^[a-z-]+:.*## ' $(MAKEFILE_LIST) | sed 's/:.*## /\t/'

$(PY):
	$(PYTHON) -m venv $(VENV)
	$(PY) -m pip install -q --upgrade pip

install: $(PY) ## Create .venv and install the project with pinned dependencies
	$(PY) -m pip install -q -r requirements.txt
	$(PY) -m pip install -q --no-deps -r requirements-no-deps.txt
	$(PY) -m pip install -q --no-deps -e .

# Without npm (a user's machine without Node.js) the Node client's and buf's tests skip; CI
# must have it, so there a missing npm fails.
ifneq ($(shell command -v npm),)
node-deps: $(NODE_DEPS) ## Install the pinned npm packages: buf and axe-core (tools/), the Node and TypeScript clients' (clients/node/, clients/typescript/)
else
node-deps:
	@if [ -n "$$CI" ]; then echo "npm not found: CI needs Node.js 20+ with npm (buf and the Node client)" >&2; exit 1; fi
	@echo "npm not found: the Node client's and buf's tests will skip; install Node.js 20+ to run them" >&2
endif

# --ignore-scripts: no dependency needs its install script (buf finds its platform binary
# without it; protobufjs's only checks its CLI), and npm versions differ on running them.
%/node_modules/.package-lock.json: %/package-lock.json %/package.json
	cd $* && npm ci --ignore-scripts --no-audit --no-fund

ts-client: node-deps ## Regenerate the TypeScript client's code (clients/typescript/src/gen) from protos/ with buf + ts-proto
	cd clients/typescript && rm -rf src/gen && npm run generate

protos: ## Regenerate services/videosearch/v1 from protos/ (never edit the output by hand)
	rm -f $(PROTO_OUT)/videosearch/v1/*_pb2*.py $(PROTO_OUT)/videosearch/v1/*_pb2*.pyi
	$(PY) -m grpc_tools.protoc -I $(PROTO_SRC) --python_out=$(PROTO_OUT) --pyi_out=$(PROTO_OUT) --grpc_python_out=$(PROTO_OUT) $(PROTOS)
	@# The TypeScript client's generated code too, where its tools are installed (make node-deps).
	if [ -x clients/typescript/node_modules/.bin/buf ]; then cd clients/typescript && rm -rf src/gen && npm run -s generate; fi

protos-check: protos ## Fail when the generated code differs from what protos/ generates
	git diff --exit-code -- $(PROTO_OUT)/videosearch/v1

proto-lint: node-deps ## buf lint (STANDARD rules) and buf breaking against the last released protos
	$(BUF) lint
	$(BUF) breaking --against $(RELEASED_PROTOS)

proto-release: node-deps ## At a release: make the current protos the baseline that proto-lint checks breaking changes against
	$(BUF) build --exclude-source-info -o $(RELEASED_PROTOS)

# The web page's browser tests drive Debian's chromium through Playwright (never Playwright's own
# browser download). Installed here when missing; in CI a browser that cannot be installed fails,
# on a user's machine the browser tests then skip and say why.
CHROMIUM ?= /usr/bin/chromium
browser-deps: ## Install Debian's chromium for the web page's browser tests, when it is missing (apt-get, as root)
	@if [ -x $(CHROMIUM) ]; then exit 0; fi; \
	if [ "$$(id -u)" = 0 ] && command -v apt-get >/dev/null && \
	   apt-get update -q && DEBIAN_FRONTEND=noninteractive apt-get install -y -q chromium; then exit 0; fi; \
	if [ -n "$$CI" ]; then echo "$(CHROMIUM) is missing and could not be installed: CI needs Debian's chromium" >&2; exit 1; fi; \
	echo "$(CHROMIUM) not found: the web page's browser tests will skip (apt-get install chromium to run them)" >&2

# espeak-ng speaks the test and demo speech (English and Mandarin) the speech recognizer hears,
# and a CJK font (WenQuanYi Micro Hei) draws the Chinese on-screen text that OCR reads.
# Installed as chromium is: when missing, with apt-get; required in CI.
ESPEAK ?= /usr/bin/espeak-ng
CJK_FONT ?= /usr/share/fonts/truetype/wqy/wqy-microhei.ttc
text-deps: ## Install Debian's espeak-ng and a CJK font for the speech and on-screen text tests and demo videos, when missing (apt-get, as root)
	@if [ -x $(ESPEAK) ] && [ -f $(CJK_FONT) ]; then exit 0; fi; \
	if [ "$$(id -u)" = 0 ] && command -v apt-get >/dev/null && \
	   apt-get update -q && DEBIAN_FRONTEND=noninteractive apt-get install -y -q espeak-ng fonts-wqy-microhei; then exit 0; fi; \
	if [ -n "$$CI" ]; then echo "$(ESPEAK) or $(CJK_FONT) is missing and could not be installed: CI needs espeak-ng and fonts-wqy-microhei" >&2; exit 1; fi; \
	echo "espeak-ng or fonts-wqy-microhei not found: the speech and Chinese on-screen text tests will skip (apt-get install espeak-ng fonts-wqy-microhei)" >&2

lint: install ## ruff (lint, and the format check of every file not on pyproject's baseline) and mypy over services/ and clients/
	$(PY) -m ruff check services clients
	$(PY) -m ruff format --check services clients
	$(PY) -m mypy

format: install ## Format new and changed Python files with ruff (files on pyproject's format baseline stay as they are)
	$(PY) -m ruff format services clients
	$(PY) -m ruff check --fix services clients

# The tests run in TEST_WORKERS processes (pytest-xdist), a whole file to a worker at a time, so a
# file's module-scoped servers start once; `make test TEST_WORKERS=0` runs them in one process.
TEST_WORKERS ?= 2
# --no-loadscope-reorder: files go out in tests/conftest.py's order (the longest first), not by test count.
PYTEST_WORKERS = $(if $(filter 0,$(TEST_WORKERS)),,-n $(TEST_WORKERS) --dist loadfile --no-loadscope-reorder)

test: install node-deps browser-deps text-deps ## Run the whole test suite (unit, system, browser, slow: end-to-end, Node client, buf lint and breaking) in TEST_WORKERS=2 processes
	$(PY) -m pytest $(PYTEST_WORKERS) --durations=25

test-fast: install ## The unit tier without the slow tests (tests/conftest.py says which), in TEST_WORKERS=2 processes: about a minute on 2 idle cores
	$(PY) -m pytest $(PYTEST_WORKERS) -m "unit and not slow" --durations=10

# Ports for `make up` and `make demo`: `make demo WEB_PORT=8081 SEARCHER_PORT=50063`. Unset, each
# keeps its default (make up: 50051-50053 and 8080; make demo: free ports and 8080).
PORT_FLAGS = $(if $(EMBEDDER_PORT),--embedder-port $(EMBEDDER_PORT)) $(if $(INDEXER_PORT),--indexer-port $(INDEXER_PORT)) \
	$(if $(SEARCHER_PORT),--searcher-port $(SEARCHER_PORT)) $(if $(WEB_PORT),--web-port $(WEB_PORT))

up: install ## Start the three services locally (Ctrl-C stops them); ports: EMBEDDER_PORT= INDEXER_PORT= SEARCHER_PORT= WEB_PORT=
	$(PY) -m videosearch.launcher $(PORT_FLAGS)

clean:
	rm -rf .venv build *.egg-info tools/node_modules clients/node/node_modules clients/typescript/node_modules clients/typescript/dist

demo: install text-deps ## The main job: start everything with the offline demo model, index demo videos (some that talk and show words), search them (ports as for up)
	$(PY) -m videosearch.demo.showcase $(PORT_FLAGS)

demo-model: install ## Retrain the offline demo CLIP (English + Chinese captions) into models/demo-clip (deterministic, about 7 minutes on 2 idle cores)
	$(PY) -m videosearch.demo.train --out models/demo-clip --seed 0
	$(PY) -m videosearch.demo.evaluate --model models/demo-clip --frames 500 --seed 12345 --record

WORD_LIST ?= /usr/share/dict/words
# Training only (not running): Debian's wamerican word list and wordfreq's word frequencies (the `train`
# extra, pinned in requirements.txt, so make install has it).
SPEECH_BASE ?= /tmp/speech/model2
SPEECH_SECOND ?= /tmp/speech/model3
demo-speech-model: install text-deps ## Retrain the demo speech recognizer on espeak-ng speech into models/demo-speech: 1,200 steps from scratch, 1,400 on fresh word sequences, then 2,000 on everyday sentences (deterministic, about 95 minutes on the shared 2-core machine)
	@[ -f $(WORD_LIST) ] || DEBIAN_FRONTEND=noninteractive apt-get install -y -q wamerican
	nice -n 10 $(PY) -m videosearch.demo.train_speech --out $(SPEECH_BASE) --seed 0 --words $(WORD_LIST)
	nice -n 10 $(PY) -m videosearch.demo.train_speech --init-from $(SPEECH_BASE) --seed 1 --steps 1400 --out $(SPEECH_SECOND) --words $(WORD_LIST)
	nice -n 10 $(PY) -m videosearch.demo.train_speech --init-from $(SPEECH_SECOND) --seed 2 --sentences everyday --utterances 7000 --steps 2000 --half-life 450 --out models/demo-speech --words $(WORD_LIST)

bench-embedder: install ## Embedder throughput vs the compute ceiling and the article's one-image-per-call pipeline; each family's image tower in float32 and bfloat16
	$(PY) bench/embedder/run.py --write-docs --plot
	$(PY) bench/embedder/families.py

bench-embedder-gpu: install ## The Embedder on a CUDA GPU against its raw batched forward pass (needs a GPU)
	$(PY) bench/embedder/gpu.py --write-docs

bench-index: install ## Indexing speed vs a re-implementation of the article's pipeline, and growth with video length
	$(PY) bench/index/run.py

bench-library: install ## A mixed library (H.264 Main/High 720p/1080p 2-12 Mbit/s, HEVC, MPEG-4 Part 2, VFR, portrait, speech): hours indexed per hour, decode alone vs the job per codec; resumable (LIBRARY="--hours 1 --resume --runs picture,text")
	$(PY) bench/index/library.py --write-docs $(LIBRARY)

bench-fast-mode: install ## Decode modes side by side (all, reference frames, sparse GOP prefixes, keyframes): cuts vs goldens, moments R@1/IoU, decode and pipeline speed on H.264 with B-frames; the same on MJPEG copies (intra-only)
	$(PY) bench/index/fast_mode.py --write-docs

bench-gpu-decode: install ## GPU decoding end to end: index jobs through the services, the Indexer decoding in software vs NVDEC, the Embedder on the same GPU; h/h, CPU per service, GPU/NVDEC use (a CPU smoke run without a device; GPU_DECODE="--seconds 20")
	$(PY) bench/index/gpu_decode.py $(GPU_DECODE)

bench-many: install ## 20 videos indexed with 1, 2 and 4 Indexer workers: videos per minute, CPU use, Embedder batch sizes
	$(PY) bench/index/many.py

bench-decoders: install ## Decoder options (OpenCV, PyAV: threads, hardware, skip_loop_filter, lowres, shrink): speed, cuts vs PySceneDetect, embedding cosine
	$(PY) bench/index/run.py --no-sampling --lengths 1 --decoders-only

bench-index-memory: install ## The Indexer's peak memory (VmHWM) and frames in flight for a 4K video, beside 720p
	$(PY) bench/index/peak_memory.py --write-docs

bench-search: install ## Search latency, start-up and memory at 10k/100k/1M scenes, vs faiss
	$(PY) bench/search/run.py --sizes 10000,100000,1000000 --plot docs/search-latency.png --write-docs

bench-ten-million: install ## The int8 tier at 10M synthetic scenes (about 45 min the first time; 21 GB under /work/bench-data)
	$(PY) bench/search/ten_million.py --probes 896,1024 --compare-reads

bench-text: install ## Said and written: R@1 per query kind (seen-only, lexical-only, fused) and the lexical index at 100k videos
	$(PY) bench/text/quality.py --write-docs
	$(PY) bench/text/lexical_scale.py --write-docs

bench-quality: install ## Retrieval quality on demo videos with the demo CLIP (R@1, R@5, MRR, IoU, cut recall)
	$(PY) bench/quality/run.py --write-docs

bench-moments: install ## Moment retrieval in long takes and hard-cut videos: the article's unit vs moments, side by side
	$(PY) bench/quality/moments.py --write-docs

bench-load: install ## 8 clients searching (text and vector) idle, then while index jobs run: p50/p99 side by side with the p99 ratio, errors (must be 0), memory growth per service
	$(PY) bench/load/run.py

chaos: install ## SIGKILL each service 50 times mid-work (the Embedder also mid-index-job); counts lost writes, partial videos, orphan keys, failed restarts, failed jobs (all must be 0)
	$(PY) bench/chaos/run.py --kills 50

bench-detectors: install ## Cut precision, recall and F1 of each PySceneDetect detector on long takes with gradual transitions
	$(PY) bench/detectors/run.py --write-docs

screenshots: install node-deps browser-deps ## Run the web page's browser test and keep its screenshots in docs/screenshots/
	VIDEOSEARCH_SCREENSHOTS=docs/screenshots $(PY) -m pytest tests/web/test_browser.py -q
