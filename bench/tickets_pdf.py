"""``python -m bench.tickets_pdf [--renders N]``: CPU time to draw one tickets PDF, in process.

The paid mail's job draws the PDF of the order's tickets; this measures that drawing alone (no
database): orders of 1, 2 and 10 tickets whose texts all fit the PDF's built-in font, and orders of 2
and 10 tickets with an attendee name that needs the Unicode font. Each case is drawn a few times to
warm up, then ``--renders`` times; the figure is CPU milliseconds a PDF (``time.process_time``), so
other load on the machine inflates it less than wall time would. Run the two versions to compare back
to back on the same machine.
"""

from __future__ import annotations

import argparse
import json
import time

from boxoffice.kit.codes import new_ticket_secret
from boxoffice.tickets.pdf import TicketPage, render_tickets

WARM_UP = 5
CASES = (("1 ticket", 1, "Jane Doe"), ("2 tickets", 2, "Jane Doe"), ("10 tickets", 10, "Jane Doe"))
UNICODE_CASES = (("2 tickets, Unicode name", 2, "Łukasz Nowak"), ("10 tickets, Unicode name", 10, "Łukasz Nowak"))


def pages(tickets: int, attendee: str) -> list[TicketPage]:
    return [
        TicketPage(
            "Benchmark Conference",
            "2031-05-04 18:00 to 23:00 CEST",
            "Hall 7",
            "Regular",
            f"{attendee} {n}",
            "49.00 EUR",
            "ABCDE",
            new_ticket_secret(),
        )
        for n in range(tickets)
    ]


def cpu_ms_per_pdf(order: list[TicketPage], renders: int) -> dict[str, float]:
    for _ in range(WARM_UP):
        render_tickets(order)
    start = time.process_time()
    for _ in range(renders):
        size = len(render_tickets(order))
    return {"cpu_ms": round((time.process_time() - start) * 1000 / renders, 2), "bytes": size}


def run(renders: int = 200) -> dict[str, dict[str, float]]:
    return {
        name: cpu_ms_per_pdf(pages(tickets, attendee), renders) for name, tickets, attendee in CASES + UNICODE_CASES
    }


if __name__ == "__main__":
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--renders", type=int, default=200)
    print(json.dumps(run(parser.parse_args().renders), indent=2))
