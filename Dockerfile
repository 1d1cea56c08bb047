# One image for the three services; docker-compose.yml picks the command.
# TORCH_INDEX selects the PyTorch build: cpu (default) or a CUDA one such as cu126 for the Embedder on a GPU.
FROM python:3.11-slim

ARG TORCH_INDEX=cpu
ENV PYTHONUNBUFFERED=1 PIP_NO_CACHE_DIR=1 HF_HOME=/models

# OpenCV (opencv-python, pulled by scenedetect) needs these shared libraries.
RUN apt-get update \
 && apt-get install -y --no-install-recommends libgl1 libglib2.0-0 \
 && rm -rf /var/lib/apt/lists/*

WORKDIR /app
COPY requirements.txt ./
RUN pip install --index-url "https://download.pytorch.org/whl/${TORCH_INDEX}" torch==2.13.0 \
 && pip install -r requirements.txt
COPY pyproject.toml README.md ./
COPY services services
COPY clients clients
COPY models models
RUN pip install --no-deps .

# Run as an unprivileged user; the data and model volumes are made writable for it.
RUN useradd --create-home --uid 10001 videosearch && mkdir -p /data /models && chown videosearch /data /models
USER videosearch
