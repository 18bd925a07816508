# The programme engine: `beuwi serve search` under gunicorn (BEUWI_WORKERS processes x BEUWI_THREADS threads).
# Stateless: each worker keeps its own snapshot of the active catalogue, so replicas scale out behind a load balancer.
# Build from the repository root:  docker build -f docker/engine.Dockerfile -t beuwi-engine .
FROM python:3.11-slim

ENV PYTHONDONTWRITEBYTECODE=1 \
    PYTHONUNBUFFERED=1 \
    PIP_NO_CACHE_DIR=1 \
    PIP_DISABLE_PIP_VERSION_CHECK=1 \
    BEUWI_DATA_DIR=/data

WORKDIR /app
COPY setup.cfg pyproject.toml README.md ./
COPY beuwi ./beuwi
# /data is only written when no BEUWI_GRAPH_URI is set (the embedded FalkorDB of a single-container trial).
RUN pip install . \
 && useradd --system --uid 10001 --user-group --no-create-home beuwi \
 && mkdir /data && chown beuwi:beuwi /data

USER 10001:10001
EXPOSE 8000
# gunicorn stops on SIGTERM gracefully: no new connections, requests in flight get BEUWI_GRACEFUL_TIMEOUT seconds.
STOPSIGNAL SIGTERM
# Liveness only: readiness (/api/health/ready) needs an active catalogue, and an engine waiting for one is not broken.
HEALTHCHECK --interval=10s --timeout=3s --start-period=20s --retries=3 \
    CMD ["python", "-c", "import urllib.request; urllib.request.urlopen('http://127.0.0.1:8000/api/health/live', timeout=2)"]
# Every address in the container: Compose publishes no port of its own (clients come through nginx, lb). Where the port
# is exposed directly, the worker (beuwi/worker.py) reads each request whole before a thread sees it and drops one
# not complete within 10 s, so slow clients cannot stall it.
CMD ["beuwi", "serve", "search", "--host", "0.0.0.0", "--port", "8000"]
