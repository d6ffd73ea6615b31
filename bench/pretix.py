"""pretix side by side: the same order + payment cycle against pretix, on the same PostgreSQL server,
alternating runs with boxoffice's throughput benchmark.

pretix (PyPI) is installed into ``bench/.pretix-venv`` (gitignored) on first use, migrated once into
a template database, and seeded like boxoffice's benchmark event (organizer ``bench``, one EUR event
"Benchmark Conference", "Regular" 49.00 and "Student" 19.00 sharing one unlimited quota, bank
transfer enabled, a team API token). Each run copies the template, starts ``gunicorn pretix.wsgi``
with two workers (pretix's documented production server; no Celery broker, so pretix runs its tasks
in the request, as a Celery-less install does) and a throwaway SMTP sink, and loads it with the
same load generator and clients.

One pretix cycle is what an integration does there to sell and get paid: ``POST …/orders/`` (the
same one or two tickets, payment provider bank transfer) with an organizer token, then
``POST …/orders/{code}/payments/{local_id}/confirm/``; it counts when the confirmation answers 200.
Neither pretix call sends mail (``send_email`` false), while boxoffice's cycle queues and sends two:
the comparison favours pretix there.
"""

from __future__ import annotations

import os
import random
import secrets
import subprocess
import sys
import time
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import httpx
from sqlalchemy.engine import make_url

from bench import infra, throughput
from bench.load import Recorder, Scenario, run_load

VERSION = "2026.8.0"
VENV = infra.ROOT / ".pretix-venv"
ORGANIZER, EVENT = "bench", "bench-conf"
_SEED = """
from decimal import Decimal
from django.utils.timezone import now
from django_scopes import scopes_disabled
from pretix.base.models import Event, Organizer, Quota, Team
with scopes_disabled():
    organizer = Organizer.objects.create(name="Benchmark Organizer", slug="bench")
    event = Event.objects.create(
        organizer=organizer, name="Benchmark Conference", slug="bench-conf", currency="EUR",
        date_from=now(), live=True, plugins="pretix.plugins.banktransfer",
    )
    event.settings.set("payment_banktransfer__enabled", True)
    event.settings.set("payment_banktransfer_bank_details", "Benchmark bank")
    quota = Quota.objects.create(event=event, name="Tickets", size=None)
    items = [event.items.create(name=name, default_price=Decimal(price), admission=True)
             for name, price in (("Regular", "49.00"), ("Student", "19.00"))]
    quota.items.add(*items)
    team = Team.objects.create(organizer=organizer, name="Bench", all_events=True, can_view_orders=True,
                               can_change_orders=True, can_change_items=True, can_change_event_settings=True)
    token = team.tokens.create(name="bench")
    print("SEED", token.token, *[i.pk for i in items])
"""


def installed() -> bool:
    return (VENV / "bin" / "gunicorn").exists() and (VENV / "bin" / "python").exists()


def install() -> None:
    """A venv of its own with pretix from PyPI (pretix pins Django and its other dependencies)."""
    if installed():
        return
    subprocess.run([sys.executable, "-m", "venv", str(VENV)], check=True)
    pip = [str(VENV / "bin" / "pip"), "install", "-q", f"pretix=={VERSION}", "gunicorn"]
    subprocess.run(pip, check=True)


@dataclass(frozen=True)
class Site:
    """A pretix installation on one database: its config file, token and item ids."""

    config: Path
    database: str
    token: str
    items: tuple[int, ...]

    def env(self) -> dict[str, str]:
        return {**os.environ, "PRETIX_CONFIG_FILE": str(self.config), "DJANGO_SETTINGS_MODULE": "pretix.settings"}


def _config(workdir: Path, database: str, port: int, smtp_port: int) -> Path:
    url = make_url(infra.server_url())
    path = workdir / f"pretix-{database}.cfg"
    path.write_text(
        f"[pretix]\ninstance_name=bench\nurl=http://127.0.0.1:{port}\ndatadir={workdir / 'data'}\ncurrency=EUR\n"
        f"[database]\nbackend=postgresql\nname={database}\nuser={url.username or 'postgres'}\n"
        f"host={url.host or '127.0.0.1'}\nport={url.port or 5432}\n"
        f"[mail]\nhost=127.0.0.1\nport={smtp_port}\n[django]\ndebug=false\n"
    )
    return path


def _pretix(site_config: Path, *args: str) -> subprocess.CompletedProcess[str]:
    env = {**os.environ, "PRETIX_CONFIG_FILE": str(site_config)}
    command = [str(VENV / "bin" / "python"), "-m", "pretix", *args]
    return subprocess.run(command, env=env, capture_output=True, text=True, check=True, cwd=site_config.parent)


_template: dict[str, Any] = {}


def _template_site(workdir: Path) -> Site:
    """Migrated and seeded once per process (pretix's migrations take minutes), copied for each run."""
    if "site" not in _template:
        import psycopg

        name = f"bench_pretix_template_{secrets.token_hex(4)}"
        with psycopg.connect(infra.Database(infra.server_url(), "").libpq, autocommit=True) as conn:
            conn.execute(f'CREATE DATABASE "{name}"')
        config = _config(workdir, name, 0, 0)
        _pretix(config, "migrate")
        seeded = _pretix(config, "shell", "-c", _SEED).stdout
        _, token, *items = next(line for line in seeded.splitlines() if line.startswith("SEED")).split()
        _template["site"] = Site(config, name, token, tuple(int(i) for i in items))
    site: Site = _template["site"]
    return site


@contextmanager
def running_pretix(workdir: Path, *, workers: int = 2) -> Iterator[tuple[str, Site]]:
    """A copy of the template database served by gunicorn on a free port, with an SMTP sink."""
    import psycopg

    template = _template_site(workdir)
    name = f"bench_pretix_{secrets.token_hex(4)}"
    admin = infra.Database(infra.server_url(), "").libpq
    with psycopg.connect(admin, autocommit=True) as conn:
        conn.execute(f'CREATE DATABASE "{name}" TEMPLATE "{template.database}"')
    port, smtp_port = infra.free_port(), infra.free_port()
    site = Site(_config(workdir, name, port, smtp_port), name, template.token, template.items)
    python = str(VENV / "bin" / "python")
    sink = subprocess.Popen(
        [python, "-W", "ignore", "-m", "smtpd", "-n", "-c", "DebuggingServer", f"127.0.0.1:{smtp_port}"],
        stdout=subprocess.DEVNULL,
        stderr=subprocess.DEVNULL,
    )
    log = (infra.RESULTS / "pretix.log").open("wb")
    server = subprocess.Popen(
        [str(VENV / "bin" / "gunicorn"), "pretix.wsgi", "--workers", str(workers), "--bind", f"127.0.0.1:{port}"],
        env=site.env(),
        cwd=workdir,
        stdout=log,
        stderr=subprocess.STDOUT,
    )
    base = f"http://127.0.0.1:{port}"
    try:
        _wait_ready(base, site, server)
        yield base, site
    finally:
        for process in (server, sink):
            process.terminate()
            process.wait(timeout=30)
        log.close()
        with psycopg.connect(admin, autocommit=True) as conn:
            conn.execute(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')


def _wait_ready(base: str, site: Site, server: subprocess.Popen[bytes], timeout: float = 120) -> None:
    deadline = time.monotonic() + timeout
    headers = {"Authorization": f"Token {site.token}"}
    while time.monotonic() < deadline:
        if server.poll() is not None:
            raise RuntimeError(f"gunicorn exited with {server.returncode}; see bench/results/pretix.log")
        try:
            if (
                httpx.get(f"{base}/api/v1/organizers/{ORGANIZER}/events/", headers=headers, timeout=5).status_code
                == 200
            ):
                return
        except httpx.HTTPError:
            pass
        time.sleep(0.5)
    raise RuntimeError("pretix did not answer within the timeout; see bench/results/pretix.log")


def pretix_scenario(site: Site, seed: int = 7) -> Scenario:
    """Create an order (bank transfer) and confirm its payment, as an organizer integration does."""
    rng = random.Random(seed)
    counter = iter(range(1, 1 << 62))
    headers = {"Authorization": f"Token {site.token}"}
    orders = f"/api/v1/organizers/{ORGANIZER}/events/{EVENT}/orders/"

    async def cycle(client: httpx.AsyncClient, rec: Recorder) -> None:
        start = time.monotonic()
        positions = [
            {"item": item} for item, quantity in throughput.random_positions(site.items, rng) for _ in range(quantity)
        ]
        body = {
            "email": f"buyer{next(counter)}@bench.example",
            "locale": "en",
            "payment_provider": "banktransfer",
            "send_email": False,
            "positions": positions,
        }
        placed = await rec.request(client, "place-order", "POST", orders, json=body, headers=headers)
        if placed.status_code != 201:
            return
        order = placed.json()
        local_id = order["payments"][0]["local_id"]
        url = f"{orders}{order['code']}/payments/{local_id}/confirm/"
        confirmed = await rec.request(client, "charge", "POST", url, json={"send_email": False}, headers=headers)
        if confirmed.status_code == 200:
            rec.cycle(start)

    return cycle


def run(size: str, *, rounds: int | None = None, clients: int = 10, duration: float | None = None) -> dict[str, Any]:
    """Alternate boxoffice and pretix runs at ``clients`` clients; cycles/s and latencies of each."""
    if not installed():
        install()
    rounds = rounds or (3 if size == "full" else 1)
    duration = duration or (20.0 if size == "full" else 5.0)
    warmup = 3.0 if size == "full" else 1.0
    workdir = infra.RESULTS / "pretix"
    (workdir / "data").mkdir(parents=True, exist_ok=True)
    runs: list[dict[str, Any]] = []
    for _ in range(rounds):
        ours = throughput.run(size, clients=(clients,), duration=duration, warmup=warmup)["rounds"][0]
        with running_pretix(workdir) as (base, site):
            theirs = run_load(
                base, clients=clients, scenario=pretix_scenario(site), duration=duration, warmup=warmup
            ).as_dict()
        with open("/proc/loadavg") as f:
            load = f.read().split()[0]
        ratio = ours["cycles_per_second"] / theirs["cycles_per_second"] if theirs["cycles_per_second"] else None
        runs.append(
            {
                "boxoffice": ours,
                "pretix": theirs,
                "ratio": round(ratio, 2) if ratio else None,
                "load_average_after": load,
            }
        )
    return {"pretix_version": VERSION, "clients": clients, "duration_s": duration, "runs": runs}
