# The admin API: `beuwi serve admin` under gunicorn, one worker process (activations are serialised within it).
# With the local backend its uploads, metadata and generated token live in /data: mount a volume there.
# Build from the repository root:  docker build -f docker/admin.Dockerfile -t beuwi-admin .
FROM python:3.11-slim

ENV PYTHONDONTWRITEBYTECODE=1 \
    PYTHONUNBUFFERED=1 \
    PIP_NO_CACHE_DIR=1 \
    PIP_DISABLE_PIP_VERSION_CHECK=1 \
    BEUWI_DATA_DIR=/data

WORKDIR /app
COPY setup.cfg pyproject.toml README.md ./
COPY beuwi ./beuwi
RUN pip install . \
 && useradd --system --uid 10001 --user-group --no-create-home beuwi \
 && mkdir /data && chown beuwi:beuwi /data

USER 10001:10001
EXPOSE 8001
# gunicorn stops on SIGTERM gracefully: an upload in flight gets BEUWI_GRACEFUL_TIMEOUT seconds to finish.
STOPSIGNAL SIGTERM
HEALTHCHECK --interval=10s --timeout=3s --start-period=20s --retries=3 \
    CMD ["python", "-c", "import urllib.request; urllib.request.urlopen('http://127.0.0.1:8001/api/health', timeout=2)"]
# Every address in the container; Compose reaches it only through nginx (lb), as engine.Dockerfile says.
CMD ["beuwi", "serve", "admin", "--host", "0.0.0.0", "--port", "8001"]
