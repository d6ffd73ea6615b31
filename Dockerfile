# boxoffice: a small runtime image that runs `boxoffice serve` as an unprivileged user.
#   docker build -t boxoffice .
#   docker run -p 8000:8000 -e BOXOFFICE_MIGRATE_ON_START=1 boxoffice
# compose.yaml runs it with PostgreSQL, Redis and a worker; docs/deploy.md explains the settings.

# Build stage: wheels of boxoffice and its pinned runtime dependencies (no test or lint tools).
FROM python:3.11-slim AS build
WORKDIR /src
COPY pyproject.toml constraints.txt README.md ./
COPY src ./src
RUN pip wheel --no-cache-dir --wheel-dir /wheels -c constraints.txt .

# Runtime stage: only the installed wheels, no compiler, no sources.
FROM python:3.11-slim
ENV PYTHONDONTWRITEBYTECODE=1 \
    PYTHONUNBUFFERED=1 \
    BOXOFFICE_LOG_FORMAT=json
RUN --mount=type=bind,from=build,source=/wheels,target=/wheels \
    pip install --no-cache-dir --no-index --find-links /wheels boxoffice \
    && useradd --system --uid 10001 --home-dir /var/lib/boxoffice --create-home boxoffice
COPY --chmod=0755 docker/entrypoint.sh /usr/local/bin/boxoffice-entrypoint
USER boxoffice
# Without BOXOFFICE_DATABASE_URL the SQLite file lands here (mount a volume to keep it).
WORKDIR /var/lib/boxoffice
EXPOSE 8000
HEALTHCHECK --interval=30s --timeout=5s --start-period=20s \
    CMD ["python", "-c", "import urllib.request; urllib.request.urlopen('http://127.0.0.1:8000/healthz', timeout=4)"]
ENTRYPOINT ["boxoffice-entrypoint"]
CMD ["boxoffice", "serve", "--host", "0.0.0.0", "--port", "8000"]
