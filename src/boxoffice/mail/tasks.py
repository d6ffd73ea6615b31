"""The job that sends one queued mail: render it (in the transaction that claims the job — for a job
this process runs itself, the one that queued the mail), hand it to SMTP outside any transaction
(the tickets PDF drawn there too), record it (with the job's finish)."""

from __future__ import annotations

import logging
import smtplib
from typing import Any

from sqlalchemy import update
from sqlalchemy.orm import Session

from boxoffice.db import unit_of_work
from boxoffice.kit.clock import now
from boxoffice.mail import transport
from boxoffice.mail.models import Mail
from boxoffice.mail.render import render_mail
from boxoffice.outbox.tasks import Finish, Task

log = logging.getLogger(__name__)

# With the outbox's backoff (15 s doubling, capped at 1 h) this keeps trying for about half a day.
MAX_ATTEMPTS = 20


def _render(session: Session, params: dict[str, Any]) -> dict[str, Any]:
    """In the unit of work that claims the job (see :mod:`boxoffice.outbox.service`): the mail
    rendered, or why there is nothing to send."""
    mail_id = int(params["mail_id"])
    mail = session.get(Mail, mail_id)
    if mail is None or mail.state != "queued":
        return {"mail_id": mail_id, "rendered": None}
    rendered = render_mail(session, mail)
    if rendered is None:
        mail.state = "skipped"
    return {"mail_id": mail_id, "rendered": rendered, "recipients": list(mail.recipients)}


def send_mail(params: dict[str, Any]) -> Finish | None:
    """Send mail ``params["mail_id"]`` unless it was sent (or skipped) already; the runner renders it
    in its claim (:func:`_render`) and records it sent together with the job.

    An SMTP error is recorded on the mail and raised, so the outbox tries again later; after
    :data:`MAX_ATTEMPTS` the mail is marked failed.
    """
    mail_id, rendered = int(params["mail_id"]), params["rendered"]
    if rendered is None:
        return None
    subject = rendered.subject[:300]
    try:
        how = transport.send(
            mail_id=mail_id,
            recipients=params["recipients"],
            subject=rendered.subject,
            text=rendered.text,
            html=rendered.html,
            attachments=rendered.attachments(),
        )
    except (smtplib.SMTPException, OSError) as exc:
        with unit_of_work() as session:
            mail = session.get(Mail, mail_id, with_for_update=True)
            assert mail is not None
            mail.subject = subject
            mail.attempts += 1
            mail.last_error = repr(exc)[:2000]
            if mail.attempts >= MAX_ATTEMPTS:
                mail.state = "failed"
                log.error("mail %s given up after %s attempts: %r", mail_id, mail.attempts, exc)
                return None
        raise

    def record_sent(session: Session) -> None:
        session.execute(
            update(Mail)
            .where(Mail.id == mail_id)
            .values(
                subject=subject,
                attempts=Mail.attempts + 1,
                state="sent" if how == "smtp" else "logged",
                sent_at=now(),
            )
            .execution_options(synchronize_session=False)
        )

    return record_sent


SEND = Task("mail.send", send_mail, max_attempts=MAX_ATTEMPTS, prepare=_render)
