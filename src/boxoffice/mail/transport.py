"""Hand a rendered mail to the SMTP server of ``BOXOFFICE_SMTP_URL``, or to the log when there is none.

Printed to the log means readable there: recipient, subject and the whole text body (with the
buyer's order link), so ``make run`` shows what a buyer would receive.

URL forms: ``smtp://host:port`` (plain), ``smtp://host:587?starttls=true`` (upgraded),
``smtps://host:465`` (TLS from the start); ``user:password@`` for authentication and
``?from=tickets@example.org`` for the sender address.
"""

from __future__ import annotations

import logging
import smtplib
import ssl
from dataclasses import dataclass
from email.message import EmailMessage
from email.utils import formatdate
from urllib.parse import parse_qs, unquote, urlsplit

from boxoffice.config import get_settings

log = logging.getLogger(__name__)

SMTP_TIMEOUT = 30.0


@dataclass(frozen=True)
class SmtpTarget:
    host: str
    port: int
    sender: str
    username: str | None = None
    password: str | None = None
    implicit_tls: bool = False
    starttls: bool = False


def parse_smtp_url(url: str, *, default_sender: str) -> SmtpTarget:
    """The SMTP server and sender described by ``url``; ValueError for anything else."""
    parts = urlsplit(url)
    if parts.scheme not in ("smtp", "smtps") or not parts.hostname:
        raise ValueError(f"BOXOFFICE_SMTP_URL must look like smtp://host:port, not {url!r}")
    query = parse_qs(parts.query)
    implicit_tls = parts.scheme == "smtps"
    return SmtpTarget(
        host=parts.hostname,
        port=parts.port or (465 if implicit_tls else 25),
        sender=query.get("from", [default_sender])[0],
        username=unquote(parts.username) if parts.username else None,
        password=unquote(parts.password) if parts.password else None,
        implicit_tls=implicit_tls,
        starttls=query.get("starttls", ["false"])[0].lower() in ("1", "true", "yes"),
    )


def default_sender() -> str:
    host = urlsplit(get_settings().public_url).hostname or "localhost"
    return f"boxoffice@{host}"


def build_message(
    *, sender: str, recipients: list[str], subject: str, text: str, html: str, message_id: str
) -> EmailMessage:
    """A multipart/alternative message: plain text first, HTML as the richer alternative."""
    message = EmailMessage()
    message["From"] = sender
    message["To"] = ", ".join(recipients)
    message["Subject"] = subject
    message["Date"] = formatdate(usegmt=True)
    message["Message-ID"] = message_id
    message["Auto-Submitted"] = "auto-generated"
    message.set_content(text)
    message.add_alternative(html, subtype="html")
    return message


def send(*, mail_id: int, recipients: list[str], subject: str, text: str, html: str) -> str:
    """Send one mail; returns how (``smtp`` or ``log``). Raises ``smtplib.SMTPException``/``OSError``."""
    url = get_settings().smtp_url
    if url is None:
        log.info(
            "mail %s not sent (no BOXOFFICE_SMTP_URL), printed here instead:\nTo: %s\nSubject: %s\n\n%s",
            mail_id, ", ".join(recipients), subject, text,
        )
        return "log"
    target = parse_smtp_url(url, default_sender=default_sender())
    message = build_message(
        sender=target.sender,
        recipients=recipients,
        subject=subject,
        text=text,
        html=html,
        # Stable across retries, so a mail client can tell a repeated delivery from a new mail.
        message_id=f"<boxoffice-mail-{mail_id}@{target.sender.rsplit('@', 1)[-1]}>",
    )
    smtp_class = smtplib.SMTP_SSL if target.implicit_tls else smtplib.SMTP
    with smtp_class(target.host, target.port, timeout=SMTP_TIMEOUT) as client:
        if target.starttls:
            client.starttls(context=ssl.create_default_context())
        if target.username:
            client.login(target.username, target.password or "")
        client.send_message(message, to_addrs=recipients)
    return "smtp"
