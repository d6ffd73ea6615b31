"""Issue #16: boxoffice against pretix on the same order + payment cycle, side by side.

pretix is never a dependency of boxoffice and none of its code is here. ``BOXOFFICE_BENCH_PRETIX`` names
a virtualenv, apart from the checkout, with pretix and gunicorn installed from PyPI::

    python3.11 -m venv /work/pretix/venv && /work/pretix/venv/bin/pip install pretix gunicorn

and ``BOXOFFICE_BENCH_PRETIX_REDIS`` a Redis database of pretix's own (``redis://127.0.0.1:6379/8``),
flushed before every round because every round's database starts with the same ids. Without it pretix
runs without Redis, which the result says.

The harness migrates and seeds a template database ``pretix_template_<version>`` on the benchmark's
PostgreSQL server (``BOXOFFICE_BENCH_DATABASE_URL``) once and keeps it — pretix has some 300 migrations,
minutes on two busy cores; the seeded catalogue is stored as the template's comment. Every round runs
on a copy of it (``pretix_bench_<random>``), dropped afterwards, like boxoffice's rounds.

The seeded event mirrors boxoffice's: organizer ``bench``, one EUR event ``bench-conf`` ("Regular" 49.00
and "Student" 19.00 sharing one unlimited quota), pretix's defaults for a new event with its PDF ticket
output on (so the "payment received" mail carries the tickets, as boxoffice's "order paid" mail does),
the ``manual`` payment provider, and a team with every event permission and an API token.

One pretix cycle is the issue's "create an order and confirm its payment" through pretix's REST API:
``POST /api/v1/organizers/bench/events/bench-conf/orders/`` (the same 1 or 2 tickets as boxoffice's
cycle, payment provider ``manual``, ``send_email`` true) then ``POST …/orders/{code}/payments/{local_id}/
confirm/``; it counts once the confirm answers 200 with the payment ``confirmed``.

The server is pretix's documented production command: gunicorn ``pretix.wsgi`` with its default sync
workers, as many worker processes as boxoffice's ``serve`` (2), without ``--max-requests`` (a recycled
worker would take its CPU time out of the count) and without a reverse proxy (boxoffice has none here
either). No Celery broker is configured, so pretix runs its tasks (the two mails) inside the request's
process, as boxoffice's default deployment runs its jobs inside the server's workers — but inside the
request: pretix's latencies include its two mails (the ticket PDF too), boxoffice's do not (its job
threads send them after the answer, and :func:`measure` waits for them before it reads the CPU time). The mails go over
SMTP to a sink on loopback (a subprocess of this harness) that counts and discards them.

Both sides are measured alike (:func:`measure`): a few whole cycles prime the fresh server, then the
load generator of ``bench.load`` runs the clients; the rate is the cycles that ended inside the
measured window per second, and the CPU time is the server's worker processes' (``/proc``) from the
start of the load until the server's queued work is done, per cycle. ``--only versus`` alternates the sides round by round and prints the ratios of
their medians.
"""

from __future__ import annotations

import asyncio
import hashlib
import json
import os
import random
import secrets
import signal
import statistics
import subprocess
import sys
import tempfile
import threading
import time
from collections.abc import Callable, Iterator
from contextlib import contextmanager, suppress
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import httpx
from sqlalchemy.engine import make_url

from bench import infra, throughput
from bench.load import LoadResult, Recorder, Scenario, run_load

VENV_VARIABLE = "BOXOFFICE_BENCH_PRETIX"
REDIS_VARIABLE = "BOXOFFICE_BENCH_PRETIX_REDIS"
WORKERS = 2
ORGANIZER = "bench"
EVENT = "bench-conf"


class PretixUnavailable(SystemExit):
    """pretix is not installed where the harness can use it. A ``SystemExit``: run from the command
    line, Python prints the message and exits 1."""


@dataclass(frozen=True)
class Pretix:
    """A virtualenv with pretix and gunicorn, and the Redis database pretix may use."""

    venv: Path
    version: str
    redis_url: str | None

    @property
    def python(self) -> Path:
        return self.venv / "bin" / "python"

    @property
    def gunicorn(self) -> Path:
        return self.venv / "bin" / "gunicorn"


def locate() -> Pretix:
    """The pretix installation named by ``BOXOFFICE_BENCH_PRETIX``, or :class:`PretixUnavailable`."""
    value = os.environ.get(VENV_VARIABLE, "")
    how = f"install pretix into a virtualenv of its own and set {VENV_VARIABLE} to it (see bench/pretix.py)"
    if not value:
        raise PretixUnavailable(f"pretix is not installed for the benchmark: {VENV_VARIABLE} is not set; {how}")
    venv = Path(value)
    for tool in ("python", "gunicorn"):
        if not (venv / "bin" / tool).exists():
            raise PretixUnavailable(f"{VENV_VARIABLE}={venv} has no bin/{tool}; {how}")
    found = subprocess.run(
        [str(venv / "bin" / "python"), "-c", "import pretix; print(pretix.__version__)"],
        capture_output=True,
        text=True,
    )
    if found.returncode != 0:
        raise PretixUnavailable(f"{VENV_VARIABLE}={venv} cannot import pretix: {found.stderr.strip()[-500:]}; {how}")
    return Pretix(venv, found.stdout.strip(), os.environ.get(REDIS_VARIABLE) or None)


@dataclass(frozen=True)
class Catalogue:
    """What the load generator needs to know about the seeded pretix event."""

    organizer: str
    event: str
    item_ids: tuple[int, ...]
    token: str

    @classmethod
    def from_dict(cls, data: dict[str, Any]) -> Catalogue:
        return cls(data["organizer"], data["event"], tuple(data["item_ids"]), data["token"])


# Run by pretix's Python inside its virtualenv (Django set up from PRETIX_CONFIG_FILE); prints the
# catalogue as JSON on its last line. Safe to run twice: it finds what an earlier run made.
SEED = f"""
import json
from datetime import timedelta
from decimal import Decimal

import django

django.setup()

from django.utils.timezone import now
from django_scopes import scopes_disabled

from pretix.base.models import Event, Item, Organizer, Quota, Team

with scopes_disabled():
    organizer, _ = Organizer.objects.get_or_create(slug="{ORGANIZER}", defaults={{"name": "Benchmark Organizer"}})
    event = Event.objects.filter(organizer=organizer, slug="{EVENT}").first()
    if event is None:
        event = Event.objects.create(
            organizer=organizer,
            slug="{EVENT}",
            name="Benchmark Conference",
            currency="EUR",
            date_from=now() + timedelta(days=365),
            live=True,
            plugins="pretix.plugins.sendmail,pretix.plugins.statistics,pretix.plugins.checkinlists,"
            "pretix.plugins.ticketoutputpdf",
        )
        event.set_defaults()  # what pretix's event wizard applies to a new event
        items = [
            Item.objects.create(event=event, name=name, default_price=Decimal(price), admission=True)
            for name, price in (("Regular", "49.00"), ("Student", "19.00"))
        ]
        quota = Quota.objects.create(event=event, name="Tickets", size=None)
        quota.items.add(*items)
    event.settings.payment_manual__enabled = True
    # Tickets are attached to the "payment received" mail only while they can be downloaded.
    event.settings.ticket_download = True
    team, _ = Team.objects.get_or_create(
        organizer=organizer, name="Benchmark", defaults={{"all_events": True, "all_event_permissions": True}}
    )
    token = team.tokens.first() or team.tokens.create(name="bench")
    item_ids = sorted(event.items.values_list("id", flat=True))
    print(json.dumps({{"organizer": organizer.slug, "event": event.slug, "item_ids": item_ids, "token": token.token}}))
"""
# Stored with the catalogue: a template seeded by another version of SEED is seeded again.
SEED_MARK = hashlib.sha256(SEED.encode()).hexdigest()[:12]


def _admin() -> str:
    """The benchmark PostgreSQL server's maintenance database, as libpq takes it."""
    return infra.Database(infra.server_url(), "").libpq


def _write_config(folder: Path, database: str, *, port: int, smtp_port: int, redis_url: str | None) -> Path:
    """A pretix.cfg for one pretix process tree: the database, Redis, the SMTP sink, data in ``folder``."""
    url = make_url(infra.server_url())
    lines = [
        "[pretix]",
        "instance_name=pretix-bench",
        f"url=http://127.0.0.1:{port}",
        "currency=EUR",
        f"datadir={folder / 'data'}",
        "[database]",
        "backend=postgresql",
        f"name={database}",
        f"user={url.username or ''}",
        f"password={url.password or ''}",
        f"host={url.host or ''}",
        f"port={url.port or 5432}",
        "[mail]",
        "from=pretix@bench.example",
        "host=127.0.0.1",
        f"port={smtp_port}",
        "[django]",
        f"secret={secrets.token_hex(32)}",
        "debug=off",
    ]
    if redis_url:
        lines += ["[redis]", f"location={redis_url}", "sessions=false"]
    (folder / "data").mkdir(parents=True, exist_ok=True)
    path = folder / "pretix.cfg"
    path.write_text("\n".join(lines) + "\n")
    return path


def _environment(pretix: Pretix, config: Path) -> dict[str, str]:
    env = {k: v for k, v in os.environ.items() if not k.startswith(("BOXOFFICE_", "PRETIX_", "VIRTUAL_ENV"))}
    env.update(
        PRETIX_CONFIG_FILE=str(config),
        DJANGO_SETTINGS_MODULE="pretix.settings",
        PATH=f"{pretix.venv / 'bin'}:{env.get('PATH', '')}",
    )
    return env


def _pretix_python(pretix: Pretix, config: Path, args: list[str], *, stdin: str | None = None) -> str:
    """Run pretix's Python with ``args``; its output, or an error that shows the end of it."""
    done = subprocess.run(
        [str(pretix.python), *args], env=_environment(pretix, config), input=stdin, capture_output=True, text=True
    )
    if done.returncode != 0:
        raise RuntimeError(f"pretix {' '.join(args)} exited {done.returncode}: {(done.stdout + done.stderr)[-2000:]}")
    return done.stdout


def template(pretix: Pretix) -> tuple[str, Catalogue]:
    """The migrated, seeded ``pretix_template_<version>`` database (made on first use, then kept)."""
    import psycopg
    from psycopg import sql

    name = "pretix_template_" + "".join(c if c.isalnum() else "_" for c in pretix.version)
    with psycopg.connect(_admin(), autocommit=True) as conn:
        row = conn.execute(
            "SELECT shobj_description(oid, 'pg_database') FROM pg_database WHERE datname = %s", (name,)
        ).fetchone()
        stored = json.loads(row[0]) if row is not None and row[0] else None
        if stored is not None and stored.get("seed") == SEED_MARK:
            return name, Catalogue.from_dict(stored)
        if row is None:
            conn.execute(f'CREATE DATABASE "{name}"')
    with tempfile.TemporaryDirectory(prefix="pretix-bench-") as folder:
        config = _write_config(Path(folder), name, port=8000, smtp_port=25, redis_url=None)
        if stored is None:
            print(f"pretix {pretix.version}: migrating {name} once (several minutes)…", file=sys.stderr)
            _pretix_python(pretix, config, ["-m", "pretix", "migrate", "--noinput"])
        seeded = json.loads(_pretix_python(pretix, config, ["-"], stdin=SEED).strip().splitlines()[-1])
    seeded["seed"] = SEED_MARK
    with psycopg.connect(_admin(), autocommit=True) as conn:
        # The comment marks the template finished: one migrated but not seeded is completed next time.
        comment = sql.Literal(json.dumps(seeded))
        conn.execute(sql.SQL("COMMENT ON DATABASE {} IS {}").format(sql.Identifier(name), comment))
    return name, Catalogue.from_dict(seeded)


@contextmanager
def fresh_database(pretix: Pretix) -> Iterator[tuple[str, Catalogue]]:
    """A copy ``pretix_bench_<random>`` of the template for the duration of the block, then dropped."""
    import psycopg

    source, catalogue = template(pretix)
    name = f"pretix_bench_{secrets.token_hex(4)}"
    with psycopg.connect(_admin(), autocommit=True) as conn:
        conn.execute(f'CREATE DATABASE "{name}" TEMPLATE "{source}"')
    try:
        yield name, catalogue
    finally:
        with psycopg.connect(_admin(), autocommit=True) as conn:
            conn.execute(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')


@dataclass
class Mails:
    """What the SMTP sink took: messages, and their bytes (the tickets PDF makes the "paid" mail big)."""

    messages: int = 0
    bytes: int = 0


async def _smtp_session(reader: asyncio.StreamReader, writer: asyncio.StreamWriter, taken: Mails) -> None:
    """Just enough SMTP for Django's backend: accept every message and throw it away."""
    writer.write(b"220 bench sink\r\n")
    while line := await reader.readline():
        verb = line[:4].upper()
        if verb == b"DATA":
            writer.write(b"354 end with .\r\n")
            await writer.drain()
            while (data := await reader.readline()) not in (b".\r\n", b""):
                taken.bytes += len(data)
            taken.messages += 1
            writer.write(b"250 accepted\r\n")
        elif verb == b"QUIT":
            writer.write(b"221 bye\r\n")
            break
        else:
            writer.write(b"250 ok\r\n")
        await writer.drain()
    writer.close()


async def _smtp_sink(port: int) -> None:
    taken = Mails()
    server = await asyncio.start_server(lambda r, w: _smtp_session(r, w, taken), "127.0.0.1", port)
    stop = asyncio.Event()
    asyncio.get_running_loop().add_signal_handler(signal.SIGTERM, stop.set)
    print("ready", flush=True)
    async with server:
        await stop.wait()
    print(taken.messages, taken.bytes, flush=True)


@contextmanager
def smtp_sink() -> Iterator[tuple[int, Mails]]:
    """A mail sink subprocess on a free loopback port; inside: the port, and the :class:`Mails` it
    took, filled in after the block."""
    port = infra.free_port()
    sink = subprocess.Popen(
        [sys.executable, "-m", "bench.pretix", "smtp-sink", str(port)],
        cwd=infra.ROOT.parent,
        stdout=subprocess.PIPE,
        text=True,
    )
    taken = Mails()
    try:
        assert sink.stdout is not None
        if sink.stdout.readline().strip() != "ready":
            raise RuntimeError("the SMTP sink did not start")
        yield port, taken
    finally:
        sink.terminate()
        out, _ = sink.communicate(timeout=20)
        taken.messages, taken.bytes = (int(n) for n in out.split())


@contextmanager
def running_server(pretix: Pretix, database: str, *, smtp_port: int, workers: int = WORKERS) -> Iterator[infra.Server]:
    """gunicorn ``pretix.wsgi`` with ``workers`` sync workers on a free loopback port, ready inside."""
    if pretix.redis_url:
        import redis

        redis.Redis.from_url(pretix.redis_url).flushdb()
    port = infra.free_port()
    infra.RESULTS.mkdir(parents=True, exist_ok=True)
    log_path = infra.RESULTS / "pretix-server.log"
    with tempfile.TemporaryDirectory(prefix="pretix-bench-") as folder:
        config = _write_config(Path(folder), database, port=port, smtp_port=smtp_port, redis_url=pretix.redis_url)
        command = [str(pretix.gunicorn), "pretix.wsgi", "--name", "pretix-bench", "--workers", str(workers)]
        command += ["--bind", f"127.0.0.1:{port}", "--log-level", "warning"]
        with infra.serving(command, port, log_path, env=_environment(pretix, config), cwd=folder) as server:
            # /healthcheck/ answers once the database and the cache do.
            infra.wait_ready(server, "/healthcheck/", workers, name="pretix's gunicorn", timeout=180, probe_timeout=5)
            yield server


def confirm_scenario(catalogue: Catalogue, seed: int = 7) -> Scenario:
    """Create an order through the organizer API and confirm its manual payment; a cycle counts when
    the confirm answered 200 with the payment confirmed."""
    rng = random.Random(seed)
    counter = iter(range(1, 1 << 62))
    headers = {"Authorization": f"Token {catalogue.token}", "Accept": "application/json"}
    orders = f"/api/v1/organizers/{catalogue.organizer}/events/{catalogue.event}/orders/"

    async def cycle(client: httpx.AsyncClient, rec: Recorder) -> None:
        start = time.monotonic()
        positions = [
            {"item": item}
            for item, quantity in throughput.random_positions(catalogue.item_ids, rng)
            for _ in range(quantity)
        ]
        body = {
            "email": f"buyer{next(counter)}@bench.example",
            "locale": "en",
            "sales_channel": "web",
            "payment_provider": "manual",
            "send_email": True,
            "positions": positions,
        }
        placed = await rec.request(client, "place-order", "POST", orders, json=body, headers=headers)
        if placed.status_code != 201:
            return
        order = placed.json()
        url = f"{orders}{order['code']}/payments/{order['payments'][0]['local_id']}/confirm/"
        confirmed = await rec.request(
            client, "confirm-payment", "POST", url, json={"send_email": True}, headers=headers
        )
        if confirmed.status_code == 200 and confirmed.json()["state"] == "confirmed":
            rec.cycle(start)
        elif confirmed.status_code == 200:
            rec.error(f"confirm-payment 200 state-{confirmed.json()['state']}")

    return cycle


def _sizes(size: str, duration: float | None, warmup: float | None) -> tuple[float, float]:
    """The measured and warm-up seconds of one round, as throughput's rounds take them."""
    duration = duration or (20.0 if size == "full" else 5.0)
    warmup = (3.0 if size == "full" else 1.0) if warmup is None else warmup
    return duration, warmup


# Whole cycles every server gets before its clock starts (a few per worker).
PRIMING_CYCLES = 4 * WORKERS


def measure(
    server: infra.Server,
    make_scenario: Callable[[int], Scenario],
    clients: int,
    *,
    duration: float,
    warmup: float,
    max_cycles: int | None = None,
    pending: Callable[[], int] | None = None,
) -> dict[str, Any]:
    """Prime the server, run the load against it, and add the workers' CPU time to what it measured.

    Priming runs :data:`PRIMING_CYCLES` whole cycles first, on both sides alike: a worker's first
    requests import and cache a lot (pretix imports its URL configuration, forms and PDF renderer on
    first use — seconds of CPU time on a busy machine), which a time-based warm-up alone does not
    cover. ``pending`` counts the work the server still has queued after its answers (boxoffice's mail
    jobs); it is waited for after priming and after the load, so the CPU time per cycle over the
    whole load (what the ratios use) includes the mails of every cycle and of no other. The CPU time
    inside the measured window per cycle ended there is kept too: it leaves out mails still queued."""
    primed = run_load(
        server.base_url, clients=clients, scenario=make_scenario(1), duration=300, max_cycles=PRIMING_CYCLES
    )
    _drain(pending)
    pids = server.worker_pids()
    marks: list[float] = []

    def mark() -> None:
        with suppress(OSError):
            marks.append(sum(infra._cpu_seconds(pid) for pid in pids))

    timers = [threading.Timer(at, mark) for at in (warmup, warmup + duration)]
    with infra.watching_workers(server) as usage:
        for timer in timers:
            timer.start()
        result: LoadResult = run_load(
            server.base_url,
            clients=clients,
            scenario=make_scenario(7),
            duration=duration,
            warmup=warmup,
            max_cycles=max_cycles,
        )
        for timer in timers:
            timer.cancel()  # the load ended early (max_cycles): no window to measure
        left = pending() if pending else 0
        drain_seconds = _drain(pending)
    measured = result.as_dict()
    measured.update(usage.as_dict())
    measured["all_cycles"] = result.all_cycles
    measured["priming_cycles"] = primed.all_cycles
    measured["queued_at_end"] = left
    measured["drain_seconds"] = drain_seconds
    measured["worker_cpu_ms_per_cycle"] = (
        round(usage.cpu_seconds * 1000 / result.all_cycles, 1) if result.all_cycles else None
    )
    # Completed cycles/s: every cycle that ended inside the window. pretix's cycles can take seconds
    # here, and ``cycles_per_second`` (cycles wholly inside the window) would leave many out.
    measured["completed_per_second"] = round(result.ended / result.seconds, 2) if result.seconds else 0.0
    measured["window_cpu_ms_per_cycle"] = (
        round((marks[1] - marks[0]) * 1000 / result.ended, 1) if len(marks) == 2 and result.ended else None
    )
    return measured


def _drain(pending: Callable[[], int] | None, timeout: float = 300.0) -> float | None:
    """Wait until ``pending()`` is 0; the seconds that took (None: it did not get there in time)."""
    start = time.monotonic()
    while pending is not None and pending():
        if time.monotonic() - start > timeout:
            return None
        time.sleep(0.5)
    return round(time.monotonic() - start, 1)


def pretix_round(
    pretix: Pretix, clients: int, *, duration: float, warmup: float, max_cycles: int | None = None
) -> dict[str, Any]:
    """One pretix round at ``clients`` on a fresh copy of the template and a fresh server."""
    with (
        fresh_database(pretix) as (database, catalogue),
        smtp_sink() as (smtp_port, mails),
        running_server(pretix, database, smtp_port=smtp_port) as server,
    ):
        measured = measure(
            server,
            lambda seed: confirm_scenario(catalogue, seed),
            clients,
            duration=duration,
            warmup=warmup,
            max_cycles=max_cycles,
        )
    measured["mails_sent"] = mails.messages
    measured["mail_kib_each"] = round(mails.bytes / 1024 / mails.messages, 1) if mails.messages else None
    return measured


def boxoffice_round(clients: int, *, duration: float, warmup: float, max_cycles: int | None = None) -> dict[str, Any]:
    """One boxoffice round, as ``throughput`` runs it (fresh database, ``serve --workers 2``, the same
    checkout scenario), measured like pretix's."""
    with infra.fresh_database() as database:
        catalogue = infra.seed(database, quota_size=None)
        with infra.running_server(database, workers=WORKERS, log_name=f"versus-boxoffice-{clients}") as server:
            return measure(
                server,
                lambda seed: throughput.checkout_scenario(catalogue, seed),
                clients,
                duration=duration,
                warmup=warmup,
                max_cycles=max_cycles,
                pending=lambda: _queued_jobs(database),
            )


def _queued_jobs(database: infra.Database) -> int:
    """boxoffice's jobs due and not yet done (its mails are jobs run after the answer)."""
    import psycopg

    with psycopg.connect(database.libpq) as conn:
        row = conn.execute(
            "SELECT count(*) FROM outbox_jobs WHERE state = 'running' OR (state = 'queued' AND run_at <= now())"
        ).fetchone()
    return int(row[0]) if row else 0


def run(
    size: str,
    *,
    clients: tuple[int, ...] | None = None,
    duration: float | None = None,
    warmup: float | None = None,
    max_cycles: int | None = None,
) -> dict[str, Any]:
    """pretix alone: cycles/s and latencies at each concurrency (10 clients unless told)."""
    pretix = locate()
    duration, warmup = _sizes(size, duration, warmup)
    rounds = [
        pretix_round(pretix, count, duration=duration, warmup=warmup, max_cycles=max_cycles)
        for count in clients or (10,)
    ]
    return {**_setup(pretix), "duration_s": duration, "warmup_s": warmup, "rounds": rounds}


def _setup(pretix: Pretix) -> dict[str, Any]:
    return {
        "pretix": {
            "version": pretix.version,
            "venv": str(pretix.venv),
            "redis": pretix.redis_url,
            "server": f"gunicorn pretix.wsgi --workers {WORKERS} (sync workers), tasks run in the request",
        },
        "boxoffice_server": f"boxoffice serve --workers {WORKERS}, jobs embedded",
    }


# The second request of a cycle on each side, compared with each other.
PAY = {"boxoffice": "charge", "pretix": "confirm-payment"}


def _summary(side: str, measured: dict[str, Any]) -> dict[str, Any]:
    latencies = measured["latencies"]
    place, pay = latencies.get("place-order", {}), latencies.get(PAY[side], {})
    return {
        "cycles_per_second": measured["completed_per_second"],
        "place_p50_ms": place.get("p50_ms"),
        "place_p99_ms": place.get("p99_ms"),
        "pay_p50_ms": pay.get("p50_ms"),
        "pay_p99_ms": pay.get("p99_ms"),
        "cpu_ms_per_cycle": measured["worker_cpu_ms_per_cycle"],
        "errors": sum(measured["errors"].values()),
    }


def _ratio(ours: float | None, theirs: float | None) -> float | None:
    if not ours or not theirs:
        return None
    return round(ours / theirs, 2)


def versus(
    size: str,
    *,
    clients: tuple[int, ...] | None = None,
    duration: float | None = None,
    warmup: float | None = None,
    rounds: int | None = None,
    max_cycles: int | None = None,
) -> dict[str, Any]:
    """boxoffice and pretix in alternating rounds (ABBA order, so a drift of the machine's load does not
    favour one side), each on a fresh database and server; prints the ratios boxoffice : pretix of the
    medians over the rounds."""
    pretix = locate()
    template(pretix)  # migrating a missing template must not fall inside a round
    duration, warmup = _sizes(size, duration, warmup)
    rounds = rounds or (3 if size == "full" else 1)
    per_concurrency = []
    for count in clients or (10,):
        runs: dict[str, list[dict[str, Any]]] = {"boxoffice": [], "pretix": []}
        for index in range(rounds):
            order = ("boxoffice", "pretix") if index % 2 == 0 else ("pretix", "boxoffice")
            for side in order:
                with open("/proc/loadavg") as f:
                    load = f.read().split()[0]
                if side == "boxoffice":
                    measured = boxoffice_round(count, duration=duration, warmup=warmup, max_cycles=max_cycles)
                else:
                    measured = pretix_round(pretix, count, duration=duration, warmup=warmup, max_cycles=max_cycles)
                measured["round"] = index + 1
                measured["load_average_before"] = float(load)
                runs[side].append(measured)
                print(f"round {index + 1} {side:9} {json.dumps(_summary(side, measured))}", file=sys.stderr)
        medians = {side: _medians([_summary(side, m) for m in side_runs]) for side, side_runs in runs.items()}
        ratios = {
            "cycles_per_second": _ratio(
                medians["boxoffice"]["cycles_per_second"], medians["pretix"]["cycles_per_second"]
            ),
            # Latency and CPU: how many times less boxoffice needs (pretix / boxoffice), so > 1 is better too.
            **{
                key: _ratio(medians["pretix"][key], medians["boxoffice"][key])
                for key in ("place_p50_ms", "place_p99_ms", "pay_p50_ms", "pay_p99_ms", "cpu_ms_per_cycle")
            },
        }
        per_concurrency.append({"clients": count, "medians": medians, "ratios": ratios, "runs": runs})
        _print_table(count, rounds, medians, ratios)
    return {**_setup(pretix), "duration_s": duration, "warmup_s": warmup, "rounds": rounds, "results": per_concurrency}


def _medians(summaries: list[dict[str, Any]]) -> dict[str, Any]:
    return {
        key: statistics.median(values) if (values := [s[key] for s in summaries if s[key] is not None]) else None
        for key in summaries[0]
    }


def _print_table(clients: int, rounds: int, medians: dict[str, dict[str, Any]], ratios: dict[str, Any]) -> None:
    keys = ("cycles_per_second", "place_p50_ms", "place_p99_ms", "pay_p50_ms", "pay_p99_ms", "cpu_ms_per_cycle")
    print(f"\nboxoffice vs pretix, {clients} clients, median of {rounds} round(s) each")
    print(f"{'':22}" + "".join(f"{key:>18}" for key in keys))
    for side in ("boxoffice", "pretix"):
        print(f"{side:22}" + "".join(f"{medians[side][key]!s:>18}" for key in keys))
    print(f"{'boxoffice advantage x':22}" + "".join(f"{ratios[key]!s:>18}" for key in keys))
    print(
        f"errors per round (median): boxoffice {medians['boxoffice']['errors']}, pretix {medians['pretix']['errors']}"
    )
    target = ratios["cycles_per_second"]
    verdict = "met" if target is not None and target >= 6 else "not met"
    print(f"issue #16 target (>= 6x pretix's cycles/s): {verdict} ({target}x)\n")


if __name__ == "__main__":
    if sys.argv[1:2] == ["smtp-sink"]:
        asyncio.run(_smtp_sink(int(sys.argv[2])))
    else:
        sys.exit("usage: python -m bench.run --only pretix|versus (python -m bench.pretix smtp-sink PORT is internal)")
