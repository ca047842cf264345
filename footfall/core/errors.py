"""Errors of the shared contract."""


class FootfallError(Exception):
    """Base of every error Footfall raises on purpose."""


class ContractError(FootfallError, ValueError):
    """Input does not follow the shared contract (topic, payload or identifier)."""


class TopicError(ContractError):
    """A topic is not a valid `footfall/v1/{store}/{device}/{kind}` topic."""


class PayloadError(ContractError):
    """A payload cannot be parsed or fails validation; `reason` says why in one line."""

    def __init__(self, reason: str, *, code: str = "invalid_payload") -> None:
        super().__init__(reason)
        self.reason = reason
        self.code = code


class ConfigError(FootfallError, ValueError):
    """A configuration file or setting is invalid; the message names the field and the fix."""
