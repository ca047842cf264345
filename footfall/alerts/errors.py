"""Errors of the alerts package, grouped by what the caller can do about them."""

from footfall.core.errors import FootfallError


class AlertsError(FootfallError):
    """Base of alerts errors."""


class DeliveryFailed(AlertsError):
    """One attempt to send a message failed; it is retried with backoff."""

    def __init__(self, reason: str, *, retry_after_s: float | None = None, permanent: bool = False) -> None:
        super().__init__(reason)
        self.reason = reason
        self.retry_after_s = retry_after_s
        self.permanent = permanent


class TargetRefused(DeliveryFailed):
    """A webhook target is private, loopback or link-local and not allowed in settings (SSRF guard)."""

    def __init__(self, reason: str) -> None:
        super().__init__(reason, permanent=True)
