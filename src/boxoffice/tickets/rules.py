"""What a door decides about a scanned ticket, as a pure function of the ticket's state."""

from __future__ import annotations

from dataclasses import dataclass
from enum import StrEnum


class ScanResult(StrEnum):
    """The closed set of answers a scan gets; every refusal is an error code of the API."""

    OK = "ok"
    ALREADY_CHECKED_IN = "already-checked-in"
    UNPAID = "unpaid"
    CANCELED = "canceled"
    NOT_ON_LIST = "not-on-list"
    UNKNOWN_TICKET = "unknown-ticket"
    TEST_MODE_TICKET = "test-mode-ticket"


REFUSALS = tuple(r for r in ScanResult if r is not ScanResult.OK)


@dataclass(frozen=True)
class TicketState:
    """What the door needs to know about one position."""

    position_canceled: bool
    order_status: str
    on_list: bool
    order_test_mode: bool = False
    event_test_mode: bool = False


def counts_test_tickets(*, event_test_mode: bool) -> bool:
    """Whether tickets of test-mode orders are admitted and counted: only while the event is in
    test mode; once it is out of it (live), they are refused at the door and left out of the figures."""
    return event_test_mode


def verdict(ticket: TicketState | None) -> ScanResult:
    """``ok`` when the ticket may enter (re-entry is decided by the database), else the refusal.

    A test-mode ticket at an event out of test mode is refused as such before anything else, and a
    canceled ticket as canceled: neither will ever be valid again, which is what the door needs to
    hear. An expired order is unpaid, like a pending one.
    """
    if ticket is None:
        return ScanResult.UNKNOWN_TICKET
    if ticket.order_test_mode and not counts_test_tickets(event_test_mode=ticket.event_test_mode):
        return ScanResult.TEST_MODE_TICKET
    if ticket.position_canceled or ticket.order_status == "canceled":
        return ScanResult.CANCELED
    if not ticket.on_list:
        return ScanResult.NOT_ON_LIST
    if ticket.order_status != "paid":
        return ScanResult.UNPAID
    return ScanResult.OK


def is_valid_ticket(*, position_canceled: bool, order_status: str) -> bool:
    """A ticket that gets a page in the PDF and a QR code on the order page."""
    return not position_canceled and order_status == "paid"


def clean_scan(text: str) -> str:
    """The secret inside what a scanner typed: without surrounding blanks or a trailing newline."""
    return text.strip()
