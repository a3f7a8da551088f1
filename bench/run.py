"""The benchmark behind `make bench`: Waardeer under gunicorn and nginx, measured on 127.0.0.1 only.

    .venv/bin/python bench/run.py [--duration 10] [--workers 3] [--webhook-events 3000] [--only webhooks]

Needs the volume from bench/fill.py in BENCH_DATABASE_URL (default
postgres://postgres@127.0.0.1:5432/waardeer_bench), Redis on 127.0.0.1:6379 (database 15 is
flushed), and Debian's nginx and wrk (installed with apt-get when missing and run as root).

It collects static files into a temporary STATIC_ROOT, starts gunicorn with production settings
(DEBUG=0, a fresh SECRET_KEY, test Stripe keys pointed at a fake Stripe API so no request leaves
the machine: a second nginx serving each payment intent the bench made as a JSON file) and nginx
with a local variant of deploy/nginx.conf (ports and paths substituted, no daemon, never port
80), then measures:
  (a) the article page saved as a static file served by nginx: the machine's own limit;
  (b) the same article through the shipped nginx configuration;
  (c) the same article straight from gunicorn (the app's cache, once it caches);
  (d) a different article on every request, straight from gunicorn (nothing in the page cache;
      each article's supporters as bench/fill.py stored them, see SupporterSummary);
  the author dashboard (/admin/ for an author login), `manage.py support_report --json`, and
  signed `checkout.session.completed` webhooks (and 5 % redeliveries), each posted once by wrk
  over several connections, checked for exactly-once in the database.
It prints one table (metric, value, target, ratio to (a), pass/fail) and writes it as JSON to
bench/results/latest.json. Targets are ratios to (a) measured in the same run, so the numbers
travel between machines. For every target missed it shows where the time goes: the same work
in this process, timed, then profiled, as shares of the stack (templates, ORM, database, ...).
"""

# A local benchmark tool: it runs fixed commands and wants seeded, repeatable randomness.
# ruff: noqa: S603, S607, S311

import argparse
import cProfile
import hashlib
import hmac
import http.client
import json
import os
import pstats
import random
import re
import secrets
import shutil
import signal
import socket
import statistics
import subprocess
import sys
import tempfile
import time
import urllib.parse
import uuid
from dataclasses import asdict, dataclass
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

BASE_DIR = Path(__file__).resolve().parent.parent
PYTHON = sys.executable
LOOPBACK = "127.0.0.1"  # every server here listens on it and every request goes to it
DEFAULT_DATABASE_URL = "postgres://postgres@127.0.0.1:5432/waardeer_bench"
REDIS_URL = "redis://127.0.0.1:6379/15"
WEBHOOK_SECRET = "whsec_bench"
WEBHOOK_PATH = "/payments/stripe/webhook/"
RESULTS_DIR = BASE_DIR / "bench" / "results"
NGINX_TEMPLATE = BASE_DIR / "deploy" / "nginx.conf"


# ---------------------------------------------------------------- nginx config


def nginx_local_config(
    template: str, *, port: int, upstream_port: int, static_root: Path, media_root: Path, work_dir: Path
) -> str:
    """deploy/nginx.conf with ports and paths replaced for a run on 127.0.0.1.

    Every value must be found exactly once, so a change to the shipped file that the bench would
    silently miss stops the bench (and its test) instead.
    """
    replacements = [
        ("user www-data;\n", ""),  # as root, workers run as nobody; the temp dirs are world-readable
        ("pid /run/nginx-waardeer.pid;", f"pid {work_dir}/nginx.pid;"),
        ("error_log /var/log/nginx/waardeer-error.log warn;", f"error_log {work_dir}/error.log warn;"),
        # Logging 80,000 requests a second would measure the disk, not nginx.
        ("access_log /var/log/nginx/waardeer-access.log;", "access_log off;"),
        ("proxy_cache_path /var/cache/nginx/waardeer ", f"proxy_cache_path {work_dir}/cache "),
        ("server 127.0.0.1:8001;", f"server {LOOPBACK}:{upstream_port};"),
        ("listen 80;", f"listen {LOOPBACK}:{port};"),
        ("listen [::]:80;\n", ""),
        ("alias /srv/waardeer/staticfiles/;", f"alias {static_root}/;"),
        ("alias /srv/waardeer/media/;", f"alias {media_root}/;"),
    ]
    config = template
    for old, new in replacements:
        found = config.count(old)
        if found != 1:
            raise ValueError(f"deploy/nginx.conf: expected {old.strip()!r} once, found it {found} times")
        config = config.replace(old, new)
    for line in config.splitlines():
        stripped = line.strip()
        if stripped.startswith("listen") and f"{LOOPBACK}:" not in stripped:
            raise ValueError(f"local nginx would listen beyond {LOOPBACK}: {stripped}")
    return config


def nginx_check(config_path: Path, work_dir: Path) -> subprocess.CompletedProcess:
    """`nginx -t` on a config file, with the error log and prefix in work_dir."""
    return subprocess.run(
        ["nginx", "-t", "-q", "-p", str(work_dir), "-e", str(work_dir / "error.log"), "-c", str(config_path)],
        capture_output=True,
        text=True,
        timeout=30,
        check=False,
    )


def nginx_start(config_path: Path, work_dir: Path) -> subprocess.Popen:
    """nginx in the foreground on a checked config file, so stop() can end it by its own id."""
    checked = nginx_check(config_path, work_dir)
    if checked.returncode != 0:
        raise RuntimeError(f"nginx -t failed on {config_path.name}:\n{checked.stderr}")
    return subprocess.Popen(
        [
            "nginx",
            "-p",
            str(work_dir),
            "-e",
            str(work_dir / "error.log"),
            "-c",
            str(config_path),
            "-g",
            "daemon off;",
        ],
        stdout=subprocess.DEVNULL,
        stderr=subprocess.DEVNULL,
    )


# The fake Stripe API: Stripe's servers answer the app's fee lookups in production, at no cost
# to this machine, so here nginx answers them from files (one per payment intent the bench made,
# its charge and balance transaction already expanded) instead of a Python server taking CPU
# from gunicorn and PostgreSQL. Query strings (the SDK's `expand[]=...`) are ignored. One worker
# is plenty for a few hundred lookups a second; keep-alive as Stripe's API (the app keeps its
# connection), so a lookup costs no TCP handshake.
_FAKE_STRIPE_NGINX = """\
worker_processes 1;
pid %(work_dir)s/fake-stripe.pid;
error_log %(work_dir)s/fake-stripe-error.log warn;

events {
    worker_connections 256;
}

http {
    default_type application/json;
    server_tokens off;
    access_log off;
    sendfile on;
    keepalive_timeout 65;
    keepalive_requests 100000;

    server {
        listen %(loopback)s:%(port)d;
        root %(root)s;
        add_header Request-Id req_$request_id always;

        location / {
            try_files $uri @no_such_object;
        }

        location @no_such_object {
            return 404 '{"error": {"type": "invalid_request_error", "message": "No such object"}}';
        }
    }
}
"""


def fake_stripe_config(*, port: int, root: Path, work_dir: Path) -> str:
    """An nginx config answering GET /v1/payment_intents/<id> on 127.0.0.1:port from files under
    root (see fake_stripe_file), and unknown ids with Stripe's 404."""
    return _FAKE_STRIPE_NGINX % {"loopback": LOOPBACK, "port": port, "root": root, "work_dir": work_dir}


def fake_stripe_file(root: Path, payment_intent: dict[str, Any]) -> None:
    """The fake Stripe API's answer for one payment intent, as the file nginx serves for it."""
    path = root / "v1" / "payment_intents" / payment_intent["id"]
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text(json.dumps(payment_intent))


# ---------------------------------------------------------------- small helpers


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind((LOOPBACK, 0))
        return sock.getsockname()[1]


def http_request(
    port: int,
    method: str,
    path: str,
    *,
    body: bytes | None = None,
    headers: dict[str, str] | None = None,
    timeout: float = 30,
) -> tuple[int, http.client.HTTPMessage, bytes]:
    """One request to 127.0.0.1:port on a fresh connection (sync gunicorn workers close anyway)."""
    conn = http.client.HTTPConnection(LOOPBACK, port, timeout=timeout)
    try:
        conn.request(method, path, body=body, headers={"Host": LOOPBACK, **(headers or {})})
        response = conn.getresponse()
        return response.status, response.headers, response.read()
    finally:
        conn.close()


def wait_for(port: int, path: str, *, seconds: float, process: subprocess.Popen) -> None:
    deadline = time.monotonic() + seconds
    while time.monotonic() < deadline:
        if process.poll() is not None:
            raise RuntimeError(f"{process.args[0]} exited with {process.returncode}")
        try:
            http_request(port, "GET", path, timeout=5)
            return
        except OSError:
            time.sleep(0.2)
    raise RuntimeError(f"nothing answered on {LOOPBACK}:{port} within {seconds} s")


def stop(process: subprocess.Popen | None, sig: int = signal.SIGTERM) -> None:
    """Stop one process we started, by its own id; wait, then kill if it lingers."""
    if process is None or process.poll() is not None:
        return
    process.send_signal(sig)
    try:
        process.wait(timeout=20)
    except subprocess.TimeoutExpired:
        process.kill()
        process.wait(timeout=10)


def ensure_tools() -> None:
    """nginx and wrk from Debian; installed here when missing so `make bench` works on a fresh machine."""
    missing = [tool for tool in ("nginx", "wrk") if shutil.which(tool) is None]
    if not missing:
        return
    if os.geteuid() != 0:
        raise SystemExit(f"Missing {', '.join(missing)}: run `sudo apt-get install -y nginx wrk` first.")
    print(f"Installing {', '.join(missing)} with apt-get ...", flush=True)
    env = {**os.environ, "DEBIAN_FRONTEND": "noninteractive"}
    subprocess.run(["apt-get", "update", "-qq"], check=True, env=env)
    subprocess.run(["apt-get", "install", "-y", "-qq", "nginx", "wrk"], check=True, env=env)


def database_is_local(url: str) -> bool:
    host = urllib.parse.urlsplit(url).hostname or ""
    return host in ("127.0.0.1", "localhost", "::1") or host.startswith("/")


# ---------------------------------------------------------------- wrk


@dataclass
class Load:
    rps: float
    p50_ms: float
    p99_ms: float
    requests: int
    bad: int  # non-2xx/3xx responses plus socket errors


_UNITS = {"us": 0.001, "ms": 1.0, "s": 1000.0, "m": 60_000.0}


def _ms(text: str) -> float:
    number, unit = re.fullmatch(r"([\d.]+)(us|ms|s|m)", text).groups()
    return float(number) * _UNITS[unit]


def parse_wrk(output: str) -> Load:
    """Requests/s and the 50th/99th latency percentiles from `wrk --latency` output."""
    rps = float(re.search(r"Requests/sec:\s+([\d.]+)", output).group(1))
    p50 = _ms(re.search(r"^\s+50%\s+(\S+)", output, re.M).group(1))
    p99 = _ms(re.search(r"^\s+99%\s+(\S+)", output, re.M).group(1))
    requests = int(re.search(r"(\d+) requests in", output).group(1))
    bad = sum(int(n) for n in re.findall(r"Non-2xx or 3xx responses: (\d+)", output))
    socket_errors = re.search(r"Socket errors: connect (\d+), read (\d+), write (\d+), timeout (\d+)", output)
    if socket_errors:
        bad += sum(int(n) for n in socket_errors.groups())
    return Load(rps=rps, p50_ms=p50, p99_ms=p99, requests=requests, bad=bad)


def wrk(port: int, path: str, *, seconds: int, connections: int = 32, script: Path | None = None) -> Load:
    command = ["wrk", "-t2", f"-c{connections}", f"-d{seconds}s", "--latency", "--timeout", "10s"]
    if script:
        command += ["-s", str(script)]
    command.append(f"http://{LOOPBACK}:{port}{path}")
    result = subprocess.run(command, capture_output=True, text=True, timeout=seconds + 60, check=False)
    if result.returncode != 0:
        raise RuntimeError(f"wrk failed: {result.stderr.strip() or result.stdout.strip()}")
    return parse_wrk(result.stdout)


# Put before each script: gives each wrk thread its number, `tid` (0, 1, ...), before init().
_LUA_THREAD_IDS = """
local counter = 0
function setup(thread)
  thread:set("tid", counter)
  counter = counter + 1
end
"""

# Each wrk thread posts its share of the prepared deliveries (lines of "signature TAB body"; with
# n threads, every n-th line) once. Once its share is sent, a connection that is free again
# redelivers the thread's first event (Stripe delivers at least once; it changes nothing) until
# the thread has as many answers as its share, writes "answers not-200" to a file and stops.
_DELIVER_LUA = r"""
function init(args)
  share, sent, answered, not_ok = {}, 0, 0, 0
  local index = 0
  for line in io.lines("%(lines)s") do
    if index %% %(threads)d == tid then
      local signature, body = line:match("^([^\t]+)\t(.+)$")
      share[#share + 1] = wrk.format("POST", nil, {
        ["Content-Type"] = "application/json", ["Stripe-Signature"] = signature
      }, body)
    end
    index = index + 1
  end
end
function request()
  sent = sent + 1
  return share[sent] or share[1]
end
function response(status, headers, body)
  answered = answered + 1
  if status ~= 200 then not_ok = not_ok + 1 end
  if answered == #share then
    local file = io.open("%(results)s/" .. tid, "w")
    file:write(answered, " ", not_ok, "\n")
    file:close()
    wrk.thread:stop()
  end
end
"""

# One wrk thread posts the webhooks. A thread that has its answers stops, but its connections stay
# open until wrk exits, and gunicorn's sync workers linger up to 2 s on each connection that had a
# redelivery in flight, waiting for the client to close it (gunicorn.util.close_graceful). With
# two threads, the second then waited seconds for a worker: 250 instead of 400 events/s.
_DELIVERY_THREADS = 1

# Each wrk thread walks the list with its own stride, so no two requests share a page.
_CYCLE_LUA = """
function init(args)
  paths = {}
  for line in io.lines("%(paths)s") do paths[#paths + 1] = line end
  index = tid
end
function request()
  local path = paths[(index %% #paths) + 1]
  index = index + %(threads)d
  return wrk.format("GET", path)
end
"""


# ---------------------------------------------------------------- a fake Stripe API on 127.0.0.1


def fake_payment_intent(payment_intent_id: str, amount: int, public_id: str) -> dict[str, Any]:
    fee = (amount * 150 + 5_000) // 10_000 + 25
    charge_id = payment_intent_id.replace("pi_", "ch_", 1)
    return {
        "id": payment_intent_id,
        "object": "payment_intent",
        "amount": amount,
        "currency": "eur",
        "status": "succeeded",
        "livemode": False,
        "metadata": {"appreciation_id": public_id},
        "latest_charge": {
            "id": charge_id,
            "object": "charge",
            "amount": amount,
            "amount_refunded": 0,
            "currency": "eur",
            "payment_intent": payment_intent_id,
            "payment_method_details": {"type": "card"},
            "balance_transaction": {
                "id": charge_id.replace("ch_", "txn_", 1),
                "object": "balance_transaction",
                "amount": amount,
                "fee": fee,
                "net": amount - fee,
                "currency": "eur",
            },
        },
    }


def stripe_signature(body: str, secret: str, timestamp: int) -> str:
    """Stripe's scheme: t=<unix>,v1=HMAC-SHA256(secret, "<t>.<body>")."""
    digest = hmac.new(secret.encode(), f"{timestamp}.{body}".encode(), hashlib.sha256).hexdigest()
    return f"t={timestamp},v1={digest}"


# ---------------------------------------------------------------- where the time goes

# The part of the stack a function belongs to, by its package (the longest prefix wins).
_PARTS = {
    "django/template": "templates (Jinja2 for readers, Django's for the panel)",
    "django/templatetags": "templates (Jinja2 for readers, Django's for the panel)",
    "crispy_forms": "templates (Jinja2 for readers, Django's for the panel)",
    "jinja2": "templates (Jinja2 for readers, Django's for the panel)",
    "markupsafe": "templates (Jinja2 for readers, Django's for the panel)",
    "django/db/models": "Django ORM: building queries, making objects",
    "django/db": "database driver, and waiting for PostgreSQL",
    "psycopg": "database driver, and waiting for PostgreSQL",
    "redis": "Redis client, and waiting for Redis",
    "django_redis": "Redis client, and waiting for Redis",
    "stripe": "Stripe SDK and its HTTP, and waiting for (fake) Stripe",
    "requests": "Stripe SDK and its HTTP, and waiting for (fake) Stripe",
    "urllib3": "Stripe SDK and its HTTP, and waiting for (fake) Stripe",
    "django": "Django: request, middleware, URLs, translations",
    "axes": "other middleware (axes, django-otp, WhiteNoise, CSP)",
    "django_otp": "other middleware (axes, django-otp, WhiteNoise, CSP)",
    "whitenoise": "other middleware (axes, django-otp, WhiteNoise, CSP)",
    "csp": "other middleware (axes, django-otp, WhiteNoise, CSP)",
}
_SITE_PACKAGES = "/site-packages/"


def _part(filename: str) -> str:
    if _SITE_PACKAGES in filename:
        package = filename.split(_SITE_PACKAGES, 1)[1]
        matches = [prefix for prefix in _PARTS if package.startswith(prefix + "/")]
        return _PARTS[max(matches, key=len)] if matches else "other libraries"
    if filename.startswith(f"{BASE_DIR}/templates/"):  # Jinja2's compiled templates
        return _PARTS["jinja2"]
    if filename.startswith(f"{BASE_DIR}/"):
        return "our code (articles, payments, ...)"
    return "Python's standard library"


def profile_parts(stats: pstats.Stats) -> dict[str, float]:
    """Each part's share of the profiled time (own time of its functions). A built-in function
    (a socket read, a dict lookup) counts for whoever called it, so waiting on a socket lands with
    the client that waited."""
    seconds: dict[str, float] = {}
    for (filename, _line, _name), (_cc, _nc, own, _cumulative, callers) in stats.stats.items():
        if filename != "~":
            seconds[_part(filename)] = seconds.get(_part(filename), 0.0) + own
            continue
        called = sum(caller[2] for caller in callers.values()) or 1.0
        for (caller_file, _l, _n), caller in callers.items():
            part = _part(caller_file) if caller_file != "~" else "Python's standard library"
            seconds[part] = seconds.get(part, 0.0) + own * caller[2] / called
    total = sum(seconds.values()) or 1.0
    return {part: value / total for part, value in sorted(seconds.items(), key=lambda item: -item[1])}


@dataclass
class Profile:
    what: str
    cpu_ms: float  # per request, measured without the profiler
    wall_ms: float
    parts: dict[str, float]
    top: list[str]

    def text(self) -> str:
        lines = [
            f"  {self.what}: {self.cpu_ms:.1f} ms of CPU ({self.wall_ms:.1f} ms wall) "
            "per request in this process"
        ]
        lines += [f"    {share:6.1%}  {part}" for part, share in self.parts.items() if share >= 0.005]
        lines.append("    most own time (cProfile):")
        lines += [f"      {entry}" for entry in self.top]
        return "\n".join(lines)


def profile_requests(what: str, send, requests: list, *, measured: list | None = None) -> Profile:
    """Time `send` over `measured` (CPU and wall, no profiler), then profile it over `requests`."""
    measured = measured or requests
    started, cpu = time.perf_counter(), time.process_time()
    for request in measured:
        send(request)
    wall_ms = (time.perf_counter() - started) * 1000 / len(measured)
    cpu_ms = (time.process_time() - cpu) * 1000 / len(measured)
    profiler = cProfile.Profile()
    profiler.enable()
    for request in requests:
        send(request)
    profiler.disable()
    stats = pstats.Stats(profiler)
    own = sorted(stats.stats.items(), key=lambda item: -item[1][2])[:12]
    total = sum(entry[2] for entry in stats.stats.values()) or 1.0
    top = [
        f"{entry[2] / total:5.1%}  {name} ({_short(filename)}:{line})"
        for (filename, line, name), entry in own
    ]
    return Profile(what, cpu_ms, wall_ms, profile_parts(stats), top)


def _short(filename: str) -> str:
    if _SITE_PACKAGES in filename:
        return filename.split(_SITE_PACKAGES, 1)[1]
    return filename.removeprefix(f"{BASE_DIR}/")


# ---------------------------------------------------------------- results


@dataclass
class Row:
    metric: str
    value: float | None = None
    unit: str = ""
    target: str = ""
    ratio: float | None = None  # to nginx serving the static copy
    passed: bool | None = None  # None: no target, or not measured
    p50_ms: float | None = None
    p99_ms: float | None = None
    note: str = ""
    profile_path: str = ""  # what the profile of a missed target runs

    def shown_value(self) -> str:
        if self.value is None:
            return self.note or "n/a"
        if self.unit == "rps":
            text = f"{self.value:,.0f} rps"
        elif self.unit == "ms":
            text = f"{self.value:,.0f} ms"
        elif self.unit == "s":
            text = f"{self.value:,.2f} s"
        else:
            text = f"{self.value:,.0f} {self.unit}"
        if self.p50_ms is not None and self.unit == "rps":
            text += f" · p50 {self.p50_ms:.1f} ms · p99 {self.p99_ms:.1f} ms"
        return text


def print_table(rows: list[Row]) -> None:
    header = ("metric", "value", "target", "ratio", "result")
    lines = [
        (
            row.metric,
            row.shown_value(),
            row.target or "-",
            "-" if row.ratio is None else f"1/{1 / row.ratio:,.1f}" if row.ratio else "0",
            {True: "pass", False: "FAIL", None: "-"}[row.passed],
        )
        for row in rows
    ]
    widths = [max(len(str(x)) for x in column) for column in zip(header, *lines, strict=False)]
    for index, line in enumerate([header, *lines]):
        print("  ".join(str(cell).ljust(width) for cell, width in zip(line, widths, strict=False)).rstrip())
        if index == 0:
            print("  ".join("-" * width for width in widths))
    for row in rows:
        if row.value is not None and row.note:
            print(f"  * {row.metric}: {row.note}")


# ---------------------------------------------------------------- the bench


class Bench:
    def __init__(self, args: argparse.Namespace) -> None:
        self.args = args
        self.work_dir = Path(tempfile.mkdtemp(prefix="waardeer-bench-"))
        self.work_dir.chmod(0o755)  # nginx workers (nobody) read static files from here
        self.static_root = self.work_dir / "static"
        self.media_root = self.work_dir / "media"
        self.media_root.mkdir()
        self.gunicorn_port = free_port()
        self.nginx_port = free_port()
        self.gunicorn: subprocess.Popen | None = None
        self.nginx: subprocess.Popen | None = None
        self.fake_stripe_port = free_port()
        self.fake_stripe_root = self.work_dir / "stripe"
        self.fake_stripe: subprocess.Popen | None = None
        self.rows: list[Row] = []
        self.uncached_paths: list[str] = []  # articles for the profile of uncached pages
        self.dashboard_user = None  # the author whose dashboard is measured
        self.env = {
            **os.environ,
            "DJANGO_SETTINGS_MODULE": "journalism.settings",
            "DATABASE_URL": args.database_url,
            "DEBUG": "0",
            "SECRET_KEY": secrets.token_urlsafe(50),
            "ALLOWED_HOSTS": LOOPBACK,
            "SITE_URL": f"http://{LOOPBACK}:{self.nginx_port}",
            "STRIPE_SECRET_KEY": "sk_test_bench",
            "STRIPE_WEBHOOK_SECRET": WEBHOOK_SECRET,
            "STRIPE_API_BASE": f"http://{LOOPBACK}:{self.fake_stripe_port}",
            "STRIPE_MAX_NETWORK_RETRIES": "0",
            "SECURE_SSL_REDIRECT": "0",
            "REDIS_URL": REDIS_URL,
            "STATIC_ROOT": str(self.static_root),
            "MEDIA_ROOT": str(self.media_root),
            "EMAIL_URL": "dummymail://",
            "LOG_LEVEL": "WARNING",
            "GUNICORN_BIND": f"{LOOPBACK}:{self.gunicorn_port}",
            "GUNICORN_WORKERS": str(args.workers),
            "GUNICORN_LOG_LEVEL": "warning",
        }
        self.env.pop("CACHE_URL", None)

    # -- setup and teardown

    def manage(self, *command: str, timeout: float = 900) -> subprocess.CompletedProcess:
        return subprocess.run(
            [PYTHON, "manage.py", *command],
            cwd=BASE_DIR,
            env=self.env,
            capture_output=True,
            text=True,
            timeout=timeout,
            check=False,
        )

    def start(self) -> None:
        import redis

        redis.Redis.from_url(REDIS_URL).flushdb()
        stripe_config = self.work_dir / "fake-stripe.conf"
        stripe_config.write_text(
            fake_stripe_config(port=self.fake_stripe_port, root=self.fake_stripe_root, work_dir=self.work_dir)
        )
        self.fake_stripe_root.mkdir()
        self.fake_stripe = nginx_start(stripe_config, self.work_dir)
        wait_for(self.fake_stripe_port, "/", seconds=20, process=self.fake_stripe)
        result = self.manage("collectstatic", "--no-input", "-v0")
        if result.returncode != 0:
            raise RuntimeError(f"collectstatic failed:\n{result.stderr[-2000:]}")
        log = (self.work_dir / "gunicorn.log").open("w")
        self.gunicorn = subprocess.Popen(
            [str(Path(PYTHON).parent / "gunicorn"), "journalism.wsgi", "-c", "deploy/gunicorn.conf.py"],
            cwd=BASE_DIR,
            env=self.env,
            stdout=log,
            stderr=subprocess.STDOUT,
        )
        try:
            wait_for(self.gunicorn_port, "/robots.txt", seconds=60, process=self.gunicorn)
        except RuntimeError:
            print((self.work_dir / "gunicorn.log").read_text()[-3000:], file=sys.stderr)
            raise
        config = nginx_local_config(
            NGINX_TEMPLATE.read_text(),
            port=self.nginx_port,
            upstream_port=self.gunicorn_port,
            static_root=self.static_root,
            media_root=self.media_root,
            work_dir=self.work_dir,
        )
        config_path = self.work_dir / "nginx.conf"
        config_path.write_text(config)
        self.nginx = nginx_start(config_path, self.work_dir)
        wait_for(self.nginx_port, "/robots.txt", seconds=20, process=self.nginx)
        print(
            f"gunicorn ({self.args.workers} workers) on {LOOPBACK}:{self.gunicorn_port}, "
            f"nginx on {LOOPBACK}:{self.nginx_port}",
            flush=True,
        )

    def close(self) -> None:
        stop(self.nginx, signal.SIGQUIT)  # graceful: workers finish, then the master exits
        stop(self.gunicorn)
        stop(self.fake_stripe, signal.SIGQUIT)

    def remove_files(self) -> None:
        shutil.rmtree(self.work_dir, ignore_errors=True)

    def django(self) -> None:
        """Django in this process too, on the same settings, to pick pages and count rows."""
        os.environ.update(self.env)
        sys.path.insert(0, str(BASE_DIR))
        import django

        django.setup()

    # -- measurements

    def pages(self) -> None:
        from django.db.models import Count

        from articles.models import Article

        published = Article.objects.published()
        popular = (
            published.annotate(n=Count("appreciations")).order_by("-n").only("slug").first()
            if self.args.popular_article
            else published.order_by("-published_at").first()
        )
        if popular is None:
            raise SystemExit("No published article: run bench/fill.py first.")
        path = popular.get_absolute_url()
        status, headers, body = http_request(self.gunicorn_port, "GET", path)
        if status != 200:
            raise RuntimeError(f"GET {path} answered {status}; see the gunicorn log")
        static_dir = self.static_root / "bench"
        static_dir.mkdir()
        (static_dir / "article.html").write_bytes(body)
        print(
            f"Article page {path} ({getattr(popular, 'n', '?')} appreciations): {len(body):,} bytes; "
            f"Cache-Control: {headers.get('Cache-Control')!r}, "
            f"Set-Cookie: {'yes' if headers.get('Set-Cookie') else 'no'}",
            flush=True,
        )

        seconds, warm = self.args.duration, self.args.warmup
        wrk(self.nginx_port, "/static/bench/article.html", seconds=warm)
        static = wrk(self.nginx_port, "/static/bench/article.html", seconds=seconds)
        self.rows.append(
            Row(
                "(a) article as a static file, nginx",
                static.rps,
                "rps",
                "machine limit",
                1.0,
                None,
                static.p50_ms,
                static.p99_ms,
                _bad(static),
            )
        )

        # Through the shipped configuration: whatever the app's headers let nginx cache.
        http_request(self.nginx_port, "GET", path)
        _status, probe, _ = http_request(self.nginx_port, "GET", path)
        wrk(self.nginx_port, path, seconds=warm)
        proxied = wrk(self.nginx_port, path, seconds=seconds)
        cache_status = probe.get("X-Cache-Status") or "-"
        note = f"X-Cache-Status {cache_status}; Cache-Control {probe.get('Cache-Control')!r}"
        if probe.get("Set-Cookie"):
            note += "; sends Set-Cookie (never cached)"
        self.rows.append(
            self._ratio_row(
                "(b) same article via shipped nginx config",
                proxied,
                static,
                2,
                note + _bad(proxied, "; "),
                path,
            )
        )

        wrk(self.gunicorn_port, path, seconds=warm)
        direct = wrk(self.gunicorn_port, path, seconds=seconds)
        self.rows.append(
            self._ratio_row(
                "(c) same article from gunicorn (app cache)", direct, static, 14, _bad(direct), path
            )
        )

        # A different article each request: the cost of a page nobody has asked for yet.
        slugs = list(published.values_list("slug", flat=True))
        random.Random(7).shuffle(slugs)
        warm_slugs, cold_slugs = slugs[:300], slugs[300:]
        self.uncached_paths = [Article(slug=slug).get_absolute_url() for slug in cold_slugs[-400:]]
        script = self._cycle_script("warm", warm_slugs)
        wrk(self.gunicorn_port, "/", seconds=warm, script=script)
        import redis

        redis.Redis.from_url(REDIS_URL).flushdb()
        uncached = wrk(
            self.gunicorn_port, "/", seconds=seconds, script=self._cycle_script("cold", cold_slugs)
        )
        row = self._ratio_row(
            "(d) a different article each request (uncached)",
            uncached,
            static,
            150,
            _bad(uncached),
            Article(slug=cold_slugs[0]).get_absolute_url(),
        )
        row.target += ", p99 < 100 ms"
        row.passed = bool(row.passed and uncached.p99_ms < 100)
        if uncached.requests > len(cold_slugs):
            row.note += f"; {uncached.requests:,} requests over {len(cold_slugs):,} articles: some repeated"
        self.rows.append(row)

    def _cycle_script(self, name: str, slugs: list[str]) -> Path:
        from articles.models import Article

        paths_file = self.work_dir / f"paths-{name}.txt"
        paths_file.write_text("".join(Article(slug=slug).get_absolute_url() + "\n" for slug in slugs))
        script = self.work_dir / f"cycle-{name}.lua"
        script.write_text(_LUA_THREAD_IDS + _CYCLE_LUA % {"paths": paths_file, "threads": 2})
        return script

    @staticmethod
    def _ratio_row(metric: str, load: Load, static: Load, denominator: int, note: str, path: str) -> Row:
        ratio = load.rps / static.rps if static.rps else None
        return Row(
            metric,
            load.rps,
            "rps",
            f">= 1/{denominator}",
            ratio,
            bool(ratio and ratio >= 1 / denominator and not load.bad),
            load.p50_ms,
            load.p99_ms,
            note.lstrip("; "),
            path,
        )

    def dashboard(self) -> None:
        from django.contrib.auth import get_user_model
        from django.db.models import Count

        from articles import roles
        from articles.models import Author

        metric = "author dashboard /admin/ (p50)"
        author = Author.objects.annotate(n=Count("appreciations")).order_by("-n").first()
        if author is None:
            self.rows.append(Row(metric, note="n/a (no author)"))
            return
        password = secrets.token_urlsafe(24)
        user_model = get_user_model()
        user, _ = user_model.objects.get_or_create(username="bench-author")
        user.set_password(password)
        user.is_active = True
        user.save()
        if author.user_id not in (None, user.pk):
            user = author.user
            user.set_password(password)
            user.save()
        roles.author_role_grant(user, author)
        self.dashboard_user = user

        status, headers, body = http_request(self.gunicorn_port, "GET", "/admin/login/?next=/admin/")
        token = re.search(rb'name="csrfmiddlewaretoken" value="([^"]+)"', body)
        if status != 200 or token is None:
            self.rows.append(Row(metric, note=f"n/a (login page answered {status})"))
            return
        cookies = _cookies(headers)
        form = urllib.parse.urlencode(
            {
                "csrfmiddlewaretoken": token.group(1).decode(),
                "username": user.get_username(),
                "password": password,
                "next": "/admin/",
            }
        ).encode()
        status, headers, _ = http_request(
            self.gunicorn_port,
            "POST",
            "/admin/login/",
            body=form,
            headers={"Content-Type": "application/x-www-form-urlencoded", "Cookie": _cookie_header(cookies)},
        )
        cookies.update(_cookies(headers))
        if status != 302 or "sessionid" not in cookies:
            self.rows.append(Row(metric, note=f"n/a (login answered {status})"))
            return
        header = {"Cookie": _cookie_header(cookies)}
        timings, statuses = [], set()
        for _ in range(self.args.dashboard_requests + 2):
            started = time.perf_counter()
            status, _, page = http_request(self.gunicorn_port, "GET", "/admin/", headers=header)
            timings.append((time.perf_counter() - started) * 1000)
            statuses.add(status)
        timings = timings[2:]  # the first requests warm the worker's connections
        p50 = statistics.median(timings)
        if statuses != {200}:
            self.rows.append(Row(metric, note=f"n/a (/admin/ answered {sorted(statuses)})"))
            return
        self.rows.append(
            Row(
                metric,
                p50,
                "ms",
                "< 300 ms",
                None,
                p50 < 300,
                p50,
                max(timings),
                f"author {author.name} ({author.n:,} appreciations), {len(timings)} requests, "
                f"max {max(timings):.0f} ms, {len(page):,} bytes",
                "/admin/",
            )
        )

    def support_report(self) -> None:
        metric = "manage.py support_report --json"
        started = time.perf_counter()
        result = self.manage("support_report", "--json")
        seconds = time.perf_counter() - started
        if result.returncode != 0:
            unknown = "Unknown command" in result.stderr
            last = (result.stderr.strip().splitlines() or ["?"])[-1][:120]
            self.rows.append(
                Row(
                    metric,
                    passed=None if unknown else False,
                    note="n/a (not available)" if unknown else f"failed: {last}",
                )
            )
            return
        try:
            json.loads(result.stdout)
            note = f"{len(result.stdout):,} bytes of JSON"
        except ValueError:
            note = "output is not JSON"
        self.rows.append(Row(metric, seconds, "s", "", None, None, note=note))

    def webhooks(self) -> None:
        from django.db import connection

        from payments.models import Appreciation, StripeEvent

        metric = "webhooks checkout.session.completed"
        status, _, _ = http_request(
            self.gunicorn_port, "POST", WEBHOOK_PATH, body=b"{}", headers={"Content-Type": "application/json"}
        )
        if status in (404, 405):
            self.rows.append(Row(metric, note="n/a (not available)"))
            return
        self._webhook_cleanup()
        count = self.args.webhook_events
        run, bodies = self._webhook_events(count)
        # Stripe delivers at least once: redeliver 5 % at random among the rest.
        rng = random.Random(11)
        deliveries = bodies + rng.sample(bodies, max(1, count // 20))
        rng.shuffle(deliveries)

        stored = StripeEvent.objects.filter(stripe_event_id__startswith=f"evt_benchwh_{run}_")
        started = time.perf_counter()
        not_ok = self._deliver(deliveries)
        # A thread counts answers, not which delivery they answer: the time ends when every event
        # is stored, not when wrk stopped.
        deadline = started + 330
        while time.perf_counter() < deadline and stored.count() < count:
            time.sleep(0.02)
        seconds = time.perf_counter() - started
        connection.close()
        processed = stored.filter(outcome=StripeEvent.Outcome.PROCESSED).count()
        paid = Appreciation.objects.filter(
            stripe_checkout_session_id__startswith=f"cs_test_benchwh_{run}_", status=Appreciation.Status.PAID
        )
        with_fee = paid.filter(fee_amount__isnull=False).count()
        exactly_once = stored.count() == count and processed == count and paid.count() == count
        rate = count / seconds
        note = (
            f"{count:,} events + {len(deliveries) - count:,} redeliveries in {seconds:.1f} s by wrk over "
            f"{self.args.webhook_connections} connections; stored {stored.count():,}, processed "
            f"{processed:,}, paid {paid.count():,} ({with_fee:,} with fee), non-200 {not_ok:,}: "
            + ("exactly once" if exactly_once and not not_ok else "NOT exactly once")
        )
        self.rows.append(
            Row(
                metric,
                rate,
                "events/s",
                ">= 300 events/s, each exactly once",
                None,
                rate >= 300 and exactly_once and not not_ok,
                note=note,
                profile_path=WEBHOOK_PATH,
            )
        )
        self._webhook_cleanup()

    def _deliver(self, deliveries: list[str]) -> int:
        """Post every delivery once with wrk, signed just before; the answers that were not 200.
        wrk, not Python threads: the client is Stripe's in production, and on this machine its CPU
        would be taken from gunicorn and PostgreSQL."""
        now = int(time.time())  # Stripe's tolerance is 300 s; a run takes seconds
        lines = self.work_dir / "deliveries.txt"
        lines.write_text(
            "".join(f"{stripe_signature(body, WEBHOOK_SECRET, now)}\t{body}\n" for body in deliveries)
        )
        results = self.work_dir / "delivered"
        results.mkdir(exist_ok=True)
        for old in results.iterdir():
            old.unlink()
        script, errors_file = self.work_dir / "deliver.lua", self.work_dir / "deliver.errors"
        script.write_text(
            _LUA_THREAD_IDS
            + _DELIVER_LUA % {"lines": lines, "threads": _DELIVERY_THREADS, "results": results}
        )
        started = time.perf_counter()
        errors_out = errors_file.open("w")
        process = subprocess.Popen(
            [
                "wrk",
                f"-t{_DELIVERY_THREADS}",
                f"-c{self.args.webhook_connections}",
                "-d300s",
                "-s",
                str(script),
                f"http://{LOOPBACK}:{self.gunicorn_port}{WEBHOOK_PATH}",
            ],
            stdout=subprocess.DEVNULL,
            stderr=errors_out,
        )
        errors_out.close()  # wrk has its own copy
        try:
            while len(list(results.iterdir())) < _DELIVERY_THREADS:
                # wrk reports a script error on stderr and goes on with plain GETs: stop at once.
                errors = errors_file.read_text()
                if errors or process.poll() is not None or time.perf_counter() - started > 300:
                    raise RuntimeError(f"wrk ended before every delivery was answered: {errors}")
                time.sleep(0.01)
        finally:
            stop(process)
        return sum(int(path.read_text().split()[1]) for path in results.iterdir())

    def _webhook_events(self, count: int) -> tuple[str, list[str]]:
        """`count` pending appreciations, and the `checkout.session.completed` event of each (its
        payment intent known to the fake Stripe API); the run id names their rows."""
        from articles.models import Article
        from payments.models import Appreciation

        run = uuid.uuid4().hex[:8]
        article = Article.objects.published().select_related("author").first()
        pending = Appreciation.objects.bulk_create(
            Appreciation(
                article=article,
                author=article.author,
                amount=500 + i % 7 * 100,
                currency="EUR",
                stripe_checkout_session_id=f"cs_test_benchwh_{run}_{i:05d}",
            )
            for i in range(count)
        )
        now = int(time.time())
        bodies = []
        for i, appreciation in enumerate(pending):
            payment_intent = f"pi_benchwh_{run}_{i:05d}"
            fake_stripe_file(
                self.fake_stripe_root,
                fake_payment_intent(payment_intent, appreciation.amount, str(appreciation.public_id)),
            )
            bodies.append(
                json.dumps(
                    _session_completed_event(f"evt_benchwh_{run}_{i:05d}", now, appreciation, payment_intent)
                )
            )
        return run, bodies

    @staticmethod
    def _webhook_cleanup() -> None:
        """Remove this bench's webhook rows so repeated runs keep the measured volume."""
        from django.db import DatabaseError, transaction

        from payments.models import Appreciation, StripeEvent

        try:
            with transaction.atomic():
                StripeEvent.objects.filter(stripe_event_id__startswith="evt_benchwh_").delete()
                Appreciation.objects.filter(
                    stripe_checkout_session_id__startswith="cs_test_benchwh_"
                ).delete()
        except DatabaseError as exc:  # e.g. a later model that protects appreciations
            print(f"  (webhook rows of earlier runs kept: {exc})")
        except Exception as exc:
            print(f"  (webhook rows of earlier runs kept: {type(exc).__name__})")

    # -- hints and output

    def profiles(self) -> list[Profile]:
        """Where the time goes for each missed target: the same work in this process, on the
        bench's settings, timed and then profiled. Run before close(): pages link the run's static
        files and webhooks ask the fake Stripe API."""
        import redis
        from django.test import Client

        found = []
        client = Client(SERVER_NAME=LOOPBACK)
        for row in self.rows:
            if row.passed is not False or not row.profile_path:
                continue
            what = f"{row.metric} (target {row.target})"
            redis.Redis.from_url(REDIS_URL).flushdb()
            if row.profile_path == WEBHOOK_PATH:
                _run, bodies = self._webhook_events(600)

                def deliver(body: str) -> None:
                    signature = stripe_signature(body, WEBHOOK_SECRET, int(time.time()))
                    client.post(
                        WEBHOOK_PATH, body, content_type="application/json", HTTP_STRIPE_SIGNATURE=signature
                    )

                found.append(profile_requests(what, deliver, bodies[:300], measured=bodies[300:]))
                self._webhook_cleanup()
            elif row.metric.startswith("(d)"):
                # Pages nobody asked for since the flush above: each one is rendered.
                half = len(self.uncached_paths) // 2
                paths = self.uncached_paths
                found.append(profile_requests(what, client.get, paths[:half], measured=paths[half:]))
            elif row.profile_path == "/admin/":
                # The author's own dashboard, not the login page an anonymous client gets.
                client.force_login(self.dashboard_user)
                found.append(profile_requests(what, client.get, ["/admin/"] * 10))
                client.logout()
            else:
                client.get(row.profile_path)  # stores the page: the rest are hits
                found.append(profile_requests(what, client.get, [row.profile_path] * 2000))
        return found

    def write(self, volume: dict[str, int], profiles: list[Profile]) -> Path:
        commit = subprocess.run(
            ["git", "rev-parse", "--short", "HEAD"], cwd=BASE_DIR, capture_output=True, text=True, check=False
        ).stdout.strip()
        RESULTS_DIR.mkdir(parents=True, exist_ok=True)
        data = {
            "generated_at": datetime.now(UTC).isoformat(timespec="seconds"),
            "commit": commit,
            "cpus": os.cpu_count(),
            "gunicorn_workers": self.args.workers,
            "duration_s": self.args.duration,
            "volume": volume,
            "rows": [asdict(row) for row in self.rows],
            "profiles": [asdict(profile) for profile in profiles],
        }
        path = RESULTS_DIR / "latest.json"
        path.write_text(json.dumps(data, indent=2) + "\n")
        return path


def _bad(load: Load, prefix: str = "") -> str:
    return f"{prefix}{load.bad:,} of {load.requests:,} responses not 2xx/3xx" if load.bad else ""


def _cookies(headers: http.client.HTTPMessage) -> dict[str, str]:
    # Production cookies are Secure; over plain loopback HTTP we hand them back ourselves.
    found = {}
    for value in headers.get_all("Set-Cookie") or []:
        name, _, rest = value.partition("=")
        found[name.strip()] = rest.split(";", 1)[0]
    return found


def _cookie_header(cookies: dict[str, str]) -> str:
    return "; ".join(f"{name}={value}" for name, value in cookies.items())


def _session_completed_event(event_id: str, now: int, appreciation, payment_intent: str) -> dict[str, Any]:
    """A `checkout.session.completed` event shaped like Stripe's (API 2026-10-28.endive)."""
    return {
        "id": event_id,
        "object": "event",
        "api_version": "2026-10-28.endive",
        "created": now,
        "livemode": False,
        "pending_webhooks": 1,
        "request": {"id": None, "idempotency_key": None},
        "type": "checkout.session.completed",
        "data": {
            "object": {
                "id": appreciation.stripe_checkout_session_id,
                "object": "checkout.session",
                "amount_subtotal": appreciation.amount,
                "amount_total": appreciation.amount,
                "client_reference_id": str(appreciation.public_id),
                "created": now - 60,
                "currency": "eur",
                "expires_at": now + 86_340,
                "livemode": False,
                "metadata": {"appreciation_id": str(appreciation.public_id)},
                "mode": "payment",
                "payment_intent": payment_intent,
                "payment_status": "paid",
                "status": "complete",
                "submit_type": "donate",
                "ui_mode": "hosted_page",
            }
        },
    }


# The parts of a run, in order (`--only` picks some).
SECTIONS = ("pages", "dashboard", "support-report", "webhooks")


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--database-url", default=os.environ.get("BENCH_DATABASE_URL", DEFAULT_DATABASE_URL))
    parser.add_argument("--duration", type=int, default=10, help="seconds per measured wrk run")
    parser.add_argument("--warmup", type=int, default=3, help="seconds of warm-up before each run")
    # Three on two cores: in alternated runs they served more pages and webhooks than four (each
    # process's own copy of Python's objects competes for the cores' caches) and more cache hits
    # than two. Nothing here waits on a real Stripe, which is why production runs more (README).
    parser.add_argument("--workers", type=int, default=3, help="gunicorn workers (3 on 2 cores)")
    parser.add_argument("--webhook-events", type=int, default=3000)
    parser.add_argument(
        "--webhook-connections", type=int, default=16, help="wrk connections posting webhooks"
    )
    parser.add_argument("--dashboard-requests", type=int, default=15)
    parser.add_argument(
        "--only",
        action="append",
        choices=SECTIONS,
        help="measure only these parts (repeatable); pages always includes (a) for the ratios",
    )
    parser.add_argument(
        "--popular-article",
        action=argparse.BooleanOptionalAction,
        default=True,
        help="measure the article with the most appreciations (else the newest)",
    )
    args = parser.parse_args(argv)
    if not database_is_local(args.database_url):
        parser.error("the benchmark runs against 127.0.0.1 only; BENCH_DATABASE_URL points elsewhere")

    ensure_tools()
    bench = Bench(args)
    try:
        bench.django()
        from articles.models import Article, Author
        from payments.models import Appreciation

        volume = {
            "authors": Author.objects.count(),
            "articles": Article.objects.count(),
            "appreciations": Appreciation.objects.count(),
        }
        print(f"Volume: {volume}", flush=True)
        bench.start()
        for section in args.only or SECTIONS:
            getattr(bench, section.replace("-", "_"))()
        profiles = bench.profiles()
    finally:
        bench.close()
        bench.remove_files()
    print()
    print_table(bench.rows)
    if profiles:
        print("\nWhere the time goes, for each target missed:")
        for profile in profiles:
            print(profile.text())
    path = bench.write(volume, profiles)
    print(f"\nWritten to {path.relative_to(BASE_DIR)}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
