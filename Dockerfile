# syntax=docker/dockerfile:1
# danchuang: the API, dashboard and clearance engine, one server process per container.
# Build:  docker build -t danchuang .
# Run:    docker run -p 8000:8000 danchuang          (embedded SQLite under /var/lib/danchuang)
# With PostgreSQL and a separate engine worker: see deploy/compose.yaml.

ARG PYTHON_VERSION=3.11

# ---- build: a wheel of the project (the schemas and scenarios ride inside it) ----
FROM python:${PYTHON_VERSION}-slim AS build
WORKDIR /src
RUN python -m pip install --no-cache-dir --upgrade pip build
COPY pyproject.toml README.md LICENSE ./
COPY app ./app
COPY declarations ./declarations
COPY simulation ./simulation
COPY xsd ./xsd
COPY scenarios ./scenarios
RUN python -m build --wheel --outdir /dist

# ---- runtime: the wheel and its dependencies in a virtualenv, run as a non-root user ----
FROM python:${PYTHON_VERSION}-slim AS runtime
ENV PYTHONDONTWRITEBYTECODE=1 \
    PYTHONUNBUFFERED=1 \
    PATH=/opt/venv/bin:$PATH \
    DANCHUANG_DATABASE_URL=sqlite:////var/lib/danchuang/danchuang.db \
    DANCHUANG_LOG_FORMAT=json
RUN python -m venv /opt/venv
COPY --from=build /dist/*.whl /tmp/
RUN pip install --no-cache-dir "$(ls /tmp/danchuang-*.whl)[postgres]" && rm /tmp/*.whl
RUN useradd --system --create-home --uid 10001 danchuang \
    && mkdir -p /var/lib/danchuang && chown danchuang /var/lib/danchuang
USER danchuang
WORKDIR /home/danchuang
EXPOSE 8000
HEALTHCHECK --interval=30s --timeout=5s --start-period=20s --retries=3 \
    CMD python -c "import urllib.request,sys; sys.exit(urllib.request.urlopen('http://127.0.0.1:8000/healthz', timeout=4).status != 200)"
CMD ["danchuang", "serve", "--host", "0.0.0.0", "--port", "8000"]
