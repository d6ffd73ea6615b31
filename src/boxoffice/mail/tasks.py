"""The job that sends one queued mail: render it, hand it to SMTP outside any transaction, record it."""

from __future__ import annotations

import logging
import smtplib
from typing import Any

from boxoffice.db import unit_of_work
from boxoffice.kit.clock import now
from boxoffice.mail import transport
from boxoffice.mail.models import Mail
from boxoffice.mail.render import render_mail
from boxoffice.outbox.tasks import task

log = logging.getLogger(__name__)

# With the outbox's backoff (15 s doubling, capped at 1 h) this keeps trying for about half a day.
MAX_ATTEMPTS = 20


@task("mail.send", max_attempts=MAX_ATTEMPTS)
def send_mail(params: dict[str, Any]) -> None:
    """Send mail ``params["mail_id"]`` unless it was sent (or skipped) already.

    An SMTP error is recorded on the mail and raised, so the outbox tries again later; after
    :data:`MAX_ATTEMPTS` the mail is marked failed.
    """
    mail_id = int(params["mail_id"])
    with unit_of_work() as session:
        mail = session.get(Mail, mail_id)
        if mail is None or mail.state != "queued":
            return
        rendered = render_mail(session, mail)
        if rendered is None:
            mail.state = "skipped"
            return
        mail.subject = rendered.subject[:300]
        recipients = list(mail.recipients)
    try:
        how = transport.send(
            mail_id=mail_id, recipients=recipients, subject=rendered.subject, text=rendered.text, html=rendered.html
        )
    except (smtplib.SMTPException, OSError) as exc:
        with unit_of_work() as session:
            mail = session.get(Mail, mail_id, with_for_update=True)
            assert mail is not None
            mail.attempts += 1
            mail.last_error = repr(exc)[:2000]
            if mail.attempts >= MAX_ATTEMPTS:
                mail.state = "failed"
                log.error("mail %s given up after %s attempts: %r", mail_id, mail.attempts, exc)
                return
        raise
    with unit_of_work() as session:
        mail = session.get(Mail, mail_id, with_for_update=True)
        assert mail is not None
        mail.attempts += 1
        mail.state = "sent" if how == "smtp" else "logged"
        mail.sent_at = now()
