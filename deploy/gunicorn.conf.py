"""gunicorn for Waardeer behind nginx (deploy/nginx.conf):

    gunicorn journalism.wsgi -c deploy/gunicorn.conf.py

Listens on 127.0.0.1 only: nginx is the one door, which is what makes trusting its
X-Forwarded-* headers safe. Threaded workers (gthread): nginx buffers slow clients, so a
thread never waits on a reader's network, and unlike sync workers they keep connections
alive, which nginx's upstream keepalive (and a load test) uses: a cached page then costs no
TCP handshake. One thread per worker by default: rendering and cache hits are CPU-bound under
the GIL, and in `make bench` a second thread per worker cost about half of the cache hits per
second and doubled the latency of uncached pages; the other workers serve hits meanwhile.
"""

import multiprocessing
import os

bind = os.environ.get("GUNICORN_BIND", "127.0.0.1:8001")
workers = int(os.environ.get("GUNICORN_WORKERS", multiprocessing.cpu_count() * 2 + 1))
worker_class = "gthread"
threads = int(os.environ.get("GUNICORN_THREADS", 1))
# Idle keep-alive connections close after 5 s; nginx opens a new one when it needs one.
keepalive = 5
# Stripe expects a webhook answer within seconds; a request that hangs this long is a bug.
timeout = int(os.environ.get("GUNICORN_TIMEOUT", 30))
graceful_timeout = 20
# Recycle workers now and then so a slow leak never becomes an outage. Not too often: a cached
# page costs well under a millisecond, so 5,000 requests were ten seconds of traffic, and every
# restart loses the worker's in-memory pages and makes readers wait for a fresh process.
max_requests = int(os.environ.get("GUNICORN_MAX_REQUESTS", 200_000))
max_requests_jitter = max_requests // 10
forwarded_allow_ips = "127.0.0.1"
accesslog = os.environ.get("GUNICORN_ACCESS_LOG") or None
errorlog = "-"
loglevel = os.environ.get("GUNICORN_LOG_LEVEL", "info")
