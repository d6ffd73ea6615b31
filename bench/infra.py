"""What every benchmark stands on: a fresh PostgreSQL database, a seeded event, a running server.

Each benchmark creates its own ``bench_<random>`` database on the PostgreSQL server named by
``BOXOFFICE_BENCH_DATABASE_URL`` (default: the local server as user ``postgres``), migrates it with
the real migrations, seeds it through the service layer, and drops it at the end, so runs never see
each other's rows and the numbers start from an empty database every time.
"""

from __future__ import annotations

import atexit
import os
import secrets
import socket
import subprocess
import sys
import threading
import time
from collections.abc import Iterator
from contextlib import contextmanager, suppress
from dataclasses import dataclass
from decimal import Decimal
from pathlib import Path

import httpx
from sqlalchemy.engine import make_url

DEFAULT_SERVER_URL = "postgresql+psycopg://postgres@127.0.0.1/postgres"
# Fixed for the server and for the harness, so the harness can sign sandbox callbacks itself.
SECRET_KEY = "bench-secret-key-not-for-production-" + "x" * 16
ROOT = Path(__file__).resolve().parent
RESULTS = ROOT / "results"


def server_url() -> str:
    """The PostgreSQL server the benchmarks create their databases on."""
    return os.environ.get("BOXOFFICE_BENCH_DATABASE_URL") or DEFAULT_SERVER_URL


@dataclass(frozen=True)
class Database:
    """One benchmark database: its SQLAlchemy URL and its name."""

    url: str
    name: str

    @property
    def libpq(self) -> str:
        """The URL as psql and pgbench take it."""
        return make_url(self.url).set(drivername="postgresql").render_as_string(hide_password=False)


def _admin(url: str) -> str:
    return make_url(url).set(drivername="postgresql").render_as_string(hide_password=False)


_templates: dict[str, str] = {}


def _template(base: str) -> str:
    """A migrated ``bench_template_<random>`` database on ``base``, made once per process and dropped
    at exit: copying it (``CREATE DATABASE … TEMPLATE``) is much faster than migrating anew."""
    import psycopg

    from boxoffice import db

    name = _templates.get(base)
    if name is None:
        name = f"bench_template_{secrets.token_hex(4)}"
        with psycopg.connect(_admin(base), autocommit=True) as conn:
            conn.execute(f'CREATE DATABASE "{name}"')
        url = make_url(base).set(database=name).render_as_string(hide_password=False)
        db.migrate(url)
        db.get_engine(url).dispose()  # a template must have no connections while it is copied
        _templates[base] = name
        atexit.register(_drop, base, name)
    return name


def _drop(base: str, name: str) -> None:
    import psycopg

    with psycopg.connect(_admin(base), autocommit=True) as conn:
        conn.execute(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')


@contextmanager
def fresh_database(server: str | None = None) -> Iterator[Database]:
    """A new, migrated ``bench_<random>`` database for the duration of the block, dropped afterwards."""
    import psycopg

    from boxoffice import db

    base = server or server_url()
    name = f"bench_{secrets.token_hex(4)}"
    template = _template(base)
    with psycopg.connect(_admin(base), autocommit=True) as conn:
        conn.execute(f'CREATE DATABASE "{name}" TEMPLATE "{template}"')
    database = Database(make_url(base).set(database=name).render_as_string(hide_password=False), name)
    try:
        yield database
    finally:
        db.dispose_engines()
        _drop(base, name)


@dataclass(frozen=True)
class Catalogue:
    """What the load generators need to know about the seeded event."""

    organizer_id: int
    event_id: int
    quota_id: int
    product_ids: tuple[int, ...]
    token: str


def seed(database: Database, *, quota_size: int | None, slug: str = "bench-conf") -> Catalogue:
    """An organizer ``bench`` with one EUR event selling two products from one quota through the
    sandbox and manual providers, and an organizer API token — all through the service layer."""
    from boxoffice import db
    from boxoffice.accounts.service import create_api_token
    from boxoffice.catalogue.service import create_event, create_product, create_quota, get_or_create_organizer

    with db.unit_of_work(database.url) as session:
        organizer = get_or_create_organizer(session, "bench", "Benchmark Organizer")
        event = create_event(
            session,
            organizer,
            slug=slug,
            name="Benchmark Conference",
            currency="EUR",
            payment_providers={"sandbox": {"enabled": True}, "manual": {"enabled": True}},
            live=True,
            test_mode=True,  # the sandbox takes money only in test mode
        )
        quota = create_quota(session, event, name="Tickets", size=quota_size)
        products = [
            create_product(session, event, name=name, price=Decimal(price), quotas=[quota])
            for name, price in (("Regular", "49.00"), ("Student", "19.00"))
        ]
        token = create_api_token(session, organizer_slug="bench", name=f"bench-{slug}")
        return Catalogue(organizer.id, event.id, quota.id, tuple(p.id for p in products), token)


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


def server_env(database: Database) -> dict[str, str]:
    """The environment of a boxoffice process on ``database`` (jobs embedded, mails to the log)."""
    env = {k: v for k, v in os.environ.items() if not k.startswith("BOXOFFICE_")}
    env.update(BOXOFFICE_DATABASE_URL=database.url, BOXOFFICE_SECRET_KEY=SECRET_KEY)
    return env


@dataclass
class Server:
    """A ``boxoffice serve`` subprocess on a loopback port."""

    process: subprocess.Popen[bytes]
    base_url: str
    log_path: Path

    def worker_pids(self) -> list[int]:
        """The uvicorn worker processes (children of the supervisor), where the requests run."""
        children = Path(f"/proc/{self.process.pid}/task/{self.process.pid}/children")
        try:
            return [int(pid) for pid in children.read_text().split()]
        except OSError:
            return []


def _rss_mb(pid: int) -> float:
    for line in Path(f"/proc/{pid}/status").read_text().splitlines():
        if line.startswith("VmRSS:"):
            return int(line.split()[1]) / 1024
    return 0.0


def _cpu_seconds(pid: int) -> float:
    # utime and stime, fields 14 and 15 of /proc/<pid>/stat, in clock ticks (after the "(comm)").
    fields = Path(f"/proc/{pid}/stat").read_text().rpartition(")")[2].split()
    return (int(fields[11]) + int(fields[12])) / os.sysconf("SC_CLK_TCK")


@dataclass
class WorkerUsage:
    """Peak resident memory and CPU time of the server's workers while a load ran."""

    peak_rss_mb: dict[int, float]
    cpu_seconds: float

    def as_dict(self) -> dict[str, object]:
        return {
            "worker_peak_rss_mb": max(self.peak_rss_mb.values(), default=0.0),
            "worker_peak_rss_mb_each": [round(v, 1) for v in self.peak_rss_mb.values()],
            "worker_cpu_seconds": round(self.cpu_seconds, 2),
        }


@contextmanager
def watching_workers(server: Server, interval: float = 0.25) -> Iterator[WorkerUsage]:
    """Sample the workers' resident memory (``VmRSS``) while inside; their CPU time is the
    difference of ``/proc/<pid>/stat`` at the start and the end."""
    pids = server.worker_pids()
    usage = WorkerUsage({pid: _rss_mb(pid) for pid in pids}, 0.0)
    start = {pid: _cpu_seconds(pid) for pid in pids}
    done = threading.Event()

    def sample() -> None:
        while not done.wait(interval):
            for pid in pids:
                with suppress(OSError):
                    usage.peak_rss_mb[pid] = round(max(usage.peak_rss_mb[pid], _rss_mb(pid)), 1)

    sampler = threading.Thread(target=sample, daemon=True)
    sampler.start()
    try:
        yield usage
    finally:
        done.set()
        sampler.join()
        usage.cpu_seconds = sum(_cpu_seconds(pid) - start[pid] for pid in pids)


@contextmanager
def running_server(database: Database, *, workers: int = 2, log_name: str = "server") -> Iterator[Server]:
    """``boxoffice serve --workers N`` on a free loopback port, ready (``/healthz`` answers) inside."""
    port = free_port()
    RESULTS.mkdir(parents=True, exist_ok=True)
    log_path = RESULTS / f"{log_name}.log"
    command = [str(Path(sys.executable).with_name("boxoffice")), "serve", "--host", "127.0.0.1"]
    command += ["--port", str(port), "--workers", str(workers)]
    with serving(command, port, log_path, env=server_env(database)) as server:
        wait_ready(server, "/healthz", workers, name="boxoffice serve")
        yield server


@contextmanager
def serving(
    command: list[str], port: int, log_path: Path, *, env: dict[str, str], cwd: str | None = None, grace: float = 30
) -> Iterator[Server]:
    """A server process started with ``command`` (listening on ``port``, output to ``log_path``),
    terminated when the block ends — killed if it has not stopped after ``grace`` seconds."""
    with log_path.open("wb") as log:
        process = subprocess.Popen(command, env=env, cwd=cwd, stdout=log, stderr=subprocess.STDOUT)
        try:
            yield Server(process, f"http://127.0.0.1:{port}", log_path)
        finally:
            process.terminate()
            try:
                process.wait(timeout=grace)
            except subprocess.TimeoutExpired:
                process.kill()
                process.wait()


def wait_ready(
    server: Server, path: str, workers: int, *, name: str, timeout: float = 60.0, probe_timeout: float = 1.0
) -> None:
    """Until ``path`` answers 200 and every worker process is up, then a few requests more: each
    worker imports its code and opens its first connections on its first requests, which must reach
    every worker before the clock starts."""
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if server.process.poll() is not None:
            raise RuntimeError(f"{name} exited with {server.process.returncode}; see {server.log_path}")
        try:
            if httpx.get(f"{server.base_url}{path}", timeout=probe_timeout).status_code == 200 and (
                workers == 1 or len(server.worker_pids()) >= workers
            ):
                with httpx.Client(base_url=server.base_url, timeout=30) as client:
                    for _ in range(4 * workers):
                        client.get(path)
                return
        except httpx.HTTPError:
            pass
        time.sleep(0.1)
    raise RuntimeError(f"{name} did not answer {path} within {timeout:.0f}s; see {server.log_path}")


@contextmanager
def app_environment(database: Database) -> Iterator[None]:
    """Point this process's boxoffice settings at ``database`` (for in-process apps) while inside."""
    from boxoffice import config

    saved = {k: os.environ.get(k) for k in ("BOXOFFICE_DATABASE_URL", "BOXOFFICE_SECRET_KEY")}
    os.environ.update(BOXOFFICE_DATABASE_URL=database.url, BOXOFFICE_SECRET_KEY=SECRET_KEY)
    config.get_settings.cache_clear()
    try:
        yield
    finally:
        for key, value in saved.items():
            if value is None:
                os.environ.pop(key, None)
            else:
                os.environ[key] = value
        config.get_settings.cache_clear()
