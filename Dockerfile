# One image for the three services; docker-compose.yml picks the command.
# TORCH_INDEX selects the PyTorch build: cpu (default) or a CUDA one such as cu126 for the Embedder on a GPU.
#
# Two stages: `build` turns the project into a wheel; `runtime` (the image) installs that
# wheel with its runtime dependencies only, pinned by requirements.txt used as constraints:
# no test or bench tools, no sources beyond the installed package and the demo model.

FROM python:3.11-slim AS build
ENV PIP_NO_CACHE_DIR=1
WORKDIR /src
COPY pyproject.toml README.md ./
COPY services services
COPY clients clients
RUN pip wheel --no-deps --wheel-dir /wheels .

FROM python:3.11-slim AS runtime
ARG TORCH_INDEX=cpu
ENV PYTHONUNBUFFERED=1 PIP_NO_CACHE_DIR=1 HF_HOME=/models

# OpenCV (opencv-python, pulled by scenedetect) needs these shared libraries.
RUN apt-get update \
 && apt-get install -y --no-install-recommends libgl1 libglib2.0-0 \
 && rm -rf /var/lib/apt/lists/*

WORKDIR /app
COPY requirements.txt requirements-no-deps.txt ./
COPY --from=build /wheels /wheels
# torch first, from the index of the wanted build; then the package with the services'
# dependencies ([project].dependencies and the server extra), each at its requirements.txt pin.
RUN pip install --index-url "https://download.pytorch.org/whl/${TORCH_INDEX}" torch==2.13.0 \
 && pip install --constraint requirements.txt "$(ls /wheels/videosearch-*.whl)[server]" \
 && pip install --no-deps -r requirements-no-deps.txt \
 && rm -rf /wheels
COPY models models

# Run as an unprivileged user; the data and model volumes are made writable for it.
RUN useradd --create-home --uid 10001 videosearch && mkdir -p /data /models && chown videosearch /data /models
USER videosearch
