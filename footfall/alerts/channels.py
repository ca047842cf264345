"""The channels a message leaves by: webhook, e-mail, Telegram, MQTT.

Each `send_*` makes one attempt and raises `DeliveryFailed` (retried with backoff by the
delivery worker) or returns. Every message carries a stable id derived from its outbox
row (`webhook-id`, e-mail `Message-ID`), so a receiver can drop the rare duplicate left by
a crash between sending and recording the delivery.
"""

import json
import logging
import smtplib
from datetime import UTC, datetime
from email.message import EmailMessage
from email.utils import make_msgid
from typing import Any

import httpx
from standardwebhooks import Webhook

from footfall.alerts.errors import DeliveryFailed, TargetRefused
from footfall.alerts.messages import render_html, render_text
from footfall.core.netguard import TargetNotAllowed, TargetUnresolved, refuse_private_target
from footfall.core.settings import AlertsSettings

logger = logging.getLogger(__name__)


# ---------------------------------------------------------------- webhook


def check_target(url: str, allow: list[str]) -> None:
    """The SSRF guard, as a delivery failure (see `footfall.core.netguard`).

    Raises:
        TargetRefused: the target is refused for good.
        DeliveryFailed: the host does not resolve (retried).
    """
    try:
        refuse_private_target(url, allow)
    except TargetNotAllowed as exc:
        raise TargetRefused(str(exc)) from None
    except TargetUnresolved as exc:
        raise DeliveryFailed(str(exc)) from None


def send_webhook(*, url: str, payload: dict[str, Any], message_id: str, secret: str, settings: AlertsSettings) -> None:
    """POST the payload, signed per the Standard Webhooks spec (`webhook-id`, `webhook-timestamp`,
    `webhook-signature`); redirects are not followed (they would bypass the SSRF guard).

    Raises:
        DeliveryFailed: refused target, network error, or a non-2xx answer.
    """
    check_target(url, settings.webhook_allow)
    body = json.dumps(payload, separators=(",", ":"), sort_keys=True)
    ts = datetime.now(UTC)  # signature time is real time: receivers check it against their clock
    signature = Webhook(secret).sign(msg_id=message_id, timestamp=ts, data=body)
    headers = {
        "content-type": "application/json",
        "user-agent": "footfall-alerts",
        "webhook-id": message_id,
        "webhook-timestamp": str(int(ts.timestamp())),
        "webhook-signature": signature,
    }
    try:
        r = httpx.post(url, content=body, headers=headers, timeout=settings.timeout_s, follow_redirects=False)
    except httpx.HTTPError as exc:
        raise DeliveryFailed(f"webhook {url}: {type(exc).__name__}: {exc}") from None
    if r.status_code == 410:
        raise DeliveryFailed(f"webhook {url}: 410 Gone (endpoint removed)", permanent=True)
    if not 200 <= r.status_code < 300:
        retry = r.headers.get("retry-after")
        raise DeliveryFailed(
            f"webhook {url}: HTTP {r.status_code}",
            retry_after_s=float(retry) if retry and retry.isdigit() else None,
        )


# ---------------------------------------------------------------- e-mail


def send_email(*, to: str, payload: dict[str, Any], message_id: str, settings: AlertsSettings) -> None:
    """Send a plain-text + HTML e-mail over SMTP.

    Raises:
        DeliveryFailed: connection or SMTP error (5xx recipient refusals are permanent).
    """
    msg = EmailMessage()
    msg["Subject"] = payload.get("headline") or payload.get("subject") or "Footfall alert"
    msg["From"] = settings.smtp_from
    msg["To"] = to
    msg["Message-ID"] = make_msgid(idstring=message_id, domain="footfall.alerts")
    msg["X-Footfall-Message"] = message_id
    msg.set_content(render_text(payload))
    msg.add_alternative(render_html(payload), subtype="html")
    try:
        with smtplib.SMTP(settings.smtp_host, settings.smtp_port, timeout=settings.timeout_s) as smtp:
            if settings.smtp_starttls:
                smtp.starttls()
            if settings.smtp_username and settings.smtp_password:
                smtp.login(settings.smtp_username, settings.smtp_password.get_secret_value())
            smtp.send_message(msg)
    except smtplib.SMTPRecipientsRefused as exc:
        raise DeliveryFailed(f"e-mail to {to}: recipient refused: {exc.recipients}", permanent=True) from None
    except (smtplib.SMTPException, OSError) as exc:
        raise DeliveryFailed(f"e-mail to {to}: {type(exc).__name__}: {exc}") from None


# ---------------------------------------------------------------- Telegram


def send_telegram(*, chat_id: str, payload: dict[str, Any], settings: AlertsSettings) -> None:
    """Send the plain-text message with the Bot API's `sendMessage`.

    Raises:
        DeliveryFailed: no bot token, network error, or the API said `ok: false`.
    """
    if settings.telegram_bot_token is None:
        raise DeliveryFailed("no Telegram bot token: set FOOTFALL_ALERTS__TELEGRAM_BOT_TOKEN", permanent=True)
    url = f"{settings.telegram_api_url.rstrip('/')}/bot{settings.telegram_bot_token.get_secret_value()}/sendMessage"
    body = {"chat_id": chat_id, "text": render_text(payload), "disable_web_page_preview": True}
    try:
        r = httpx.post(url, json=body, timeout=settings.timeout_s)
        answer = r.json()
    except (httpx.HTTPError, ValueError) as exc:
        raise DeliveryFailed(f"telegram chat {chat_id}: {type(exc).__name__}") from None
    if not answer.get("ok"):
        retry = (answer.get("parameters") or {}).get("retry_after")
        code = answer.get("error_code", r.status_code)
        raise DeliveryFailed(
            f"telegram chat {chat_id}: {code} {answer.get('description', '')}".strip(),
            retry_after_s=float(retry) if retry else None,
            permanent=code in (400, 403),
        )
