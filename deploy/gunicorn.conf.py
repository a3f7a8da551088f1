"""gunicorn for Waardeer behind nginx (deploy/nginx.conf):

    gunicorn journalism.wsgi -c deploy/gunicorn.conf.py

Listens on 127.0.0.1 only: nginx is the one door, which is what makes trusting its
X-Forwarded-* headers safe. Sync workers, as gunicorn advises behind a buffering proxy: nginx
buffers slow clients, so a worker never waits on a reader's network. Every worker waits in
accept() on the one socket, so requests queue fairly for whichever worker is free. Rendering
and cache hits are CPU-bound under the GIL, so threads do not add throughput. In `make bench`
on two cores, threaded workers (gthread, one thread, keep-alive) served as many pages. But a
worker holding many kept-alive connections made its readers wait behind each other: uncached
pages had a p99 of 320-330 ms, against 165-175 ms with sync workers, and cache hits
now and then 800 ms, against 11 ms. GUNICORN_THREADS above 1 makes gunicorn use gthread workers
instead, with keep-alive, which nginx's upstream keepalive then uses.
"""

import multiprocessing
import os

bind = os.environ.get("GUNICORN_BIND", "127.0.0.1:8001")
# More than one per core: a sync worker waits while a checkout is created at Stripe or a webhook's
# fee is looked up there. Where nothing waits on Stripe (make bench), each one more only costs
# CPU: the bench runs three on two cores.
workers = int(os.environ.get("GUNICORN_WORKERS", multiprocessing.cpu_count() * 2 + 1))
worker_class = "sync"
threads = int(os.environ.get("GUNICORN_THREADS", 1))
# Only for gthread workers: idle keep-alive connections close after 5 s.
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
