"""gunicorn for Waardeer behind nginx (deploy/nginx.conf):

    gunicorn journalism.wsgi -c deploy/gunicorn.conf.py

Listens on 127.0.0.1 only: nginx is the one door, which is what makes trusting its
X-Forwarded-* headers safe. Sync workers, one request each at a time; nginx buffers slow
clients, so a worker never waits on a reader's network.
"""

import multiprocessing
import os

bind = os.environ.get("GUNICORN_BIND", "127.0.0.1:8001")
workers = int(os.environ.get("GUNICORN_WORKERS", multiprocessing.cpu_count() * 2 + 1))
worker_class = "sync"
# Stripe expects a webhook answer within seconds; a request that hangs this long is a bug.
timeout = int(os.environ.get("GUNICORN_TIMEOUT", 30))
graceful_timeout = 20
# Recycle workers now and then so a slow leak never becomes an outage.
max_requests = 5000
max_requests_jitter = 500
forwarded_allow_ips = "127.0.0.1"
accesslog = os.environ.get("GUNICORN_ACCESS_LOG") or None
errorlog = "-"
loglevel = os.environ.get("GUNICORN_LOG_LEVEL", "info")
