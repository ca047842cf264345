"""One `Settings` for every process, read from the environment.

Variables use the prefix `FOOTFALL_` and `__` between a section and its field, e.g.
`FOOTFALL_DB__URL`, `FOOTFALL_MQTT__PASSWORD`, `FOOTFALL_API__SECRET_KEY`. Secrets are
`SecretStr`: they print as `**********` in logs and reprs.
"""

from functools import lru_cache
from pathlib import Path
from typing import Literal, Self
from urllib.parse import urlsplit, urlunsplit

from pydantic import BaseModel, ConfigDict, Field, SecretStr, field_validator, model_validator
from pydantic_settings import BaseSettings, SettingsConfigDict

from footfall.core.topics import DEFAULT_PREFIX, check_prefix

# Secrets that were published (in this repository's history or its docs): refused everywhere.
_PUBLISHED_SECRETS = frozenset({"change-me-local-development-only"})


def strong_secret(value: SecretStr | None) -> SecretStr | None:
    """A configured secret, refused when published or shorter than 32 characters (None: made at start).

    Raises:
        ValueError: the secret is a published value or too short.
    """
    if value is None:
        return None
    secret = value.get_secret_value()
    if secret in _PUBLISHED_SECRETS:
        raise ValueError(
            "is a published example value that anyone can sign with; set a long random secret "
            "(`python -c 'import secrets; print(secrets.token_urlsafe(48))'`) or unset it to have one made"
        )
    if len(secret) < 32:
        raise ValueError("must be at least 32 characters; unset it to have a random one made on first start")
    return value


class _Section(BaseModel):
    model_config = ConfigDict(extra="forbid")


class DbSettings(_Section):
    """PostgreSQL / TimescaleDB connection."""

    url: str = Field(
        default="postgresql://postgres@127.0.0.1:5432/footfall",
        title="Database URL",
        description="libpq URL of the Footfall database; put the password in `password`, not here.",
    )
    password: SecretStr | None = Field(default=None, description="Database password, if any.")
    pool_min: int = Field(default=1, ge=0, le=100, description="Connections kept open.")
    pool_max: int = Field(default=10, ge=1, le=500, description="Most connections at once.")
    connect_timeout_s: float = Field(default=5.0, gt=0, le=120)
    replica_url: str | None = Field(
        default=None,
        title="Read-replica URL",
        description=(
            "libpq URL of a streaming replica of the same database (same password). Set, the API's KPI "
            "reads (and the dashboards built on them) go there; logins, users, scopes and every write stay "
            "on the primary. A replica further behind than `replica_max_lag_s` is not read."
        ),
    )
    replica_max_lag_s: float = Field(
        default=30.0,
        ge=0,
        le=86_400,
        title="Most replica lag",
        description=(
            "Seconds of replay lag beyond which a KPI read goes to the primary instead (the answer says so "
            "in `X-Footfall-Read-From` and `X-Footfall-Replica-Lag-S`)."
        ),
    )

    @field_validator("url", "replica_url")
    @classmethod
    def _no_password_in_url(cls, value: str | None) -> str | None:
        if value is None:
            return None
        parts = urlsplit(value)
        if parts.scheme not in ("postgresql", "postgres"):
            raise ValueError("must be a postgresql:// URL")
        if parts.password:
            raise ValueError("holds a password; set FOOTFALL_DB__PASSWORD instead so it is never logged")
        return value

    def replica(self) -> "DbSettings | None":
        """Settings for the read replica (same password, pool and timeouts), if one is set."""
        if self.replica_url is None:
            return None
        return self.model_copy(update={"url": self.replica_url, "replica_url": None})

    @property
    def dbname(self) -> str:
        """The database the URL names."""
        return urlsplit(self.url).path.lstrip("/") or "postgres"

    def url_for(self, dbname: str) -> str:
        """The same server, another database."""
        p = urlsplit(self.url)
        return urlunsplit((p.scheme, p.netloc, "/" + dbname, p.query, p.fragment))

    def conninfo(self, dbname: str | None = None) -> str:
        """A libpq connection string, password included (never log it)."""
        from psycopg.conninfo import make_conninfo

        url = self.url_for(dbname) if dbname else self.url
        extra: dict[str, str] = {"connect_timeout": str(max(1, int(self.connect_timeout_s)))}
        if self.password is not None:
            extra["password"] = self.password.get_secret_value()
        return make_conninfo(url, **extra)


class MqttSettings(_Section):
    """The MQTT broker."""

    host: str = Field(default="127.0.0.1", description="Broker host name.")
    port: int = Field(default=1883, ge=1, le=65535, description="Broker port (8883 for TLS).")
    username: str | None = Field(default=None, description="User name, if the broker wants one.")
    password: SecretStr | None = Field(default=None, description="Password, if the broker wants one.")
    prefix: str = Field(
        default=DEFAULT_PREFIX,
        description="First topic level(s); several deployments can share a broker under different ones.",
    )
    tls: bool = Field(default=False, description="Connect with TLS.")
    ca_file: Path | None = Field(default=None, description="CA bundle for the broker's certificate.")
    cert_file: Path | None = Field(default=None, description="Client certificate, for mutual TLS.")
    key_file: Path | None = Field(default=None, description="Client key, for mutual TLS.")
    keepalive_s: int = Field(default=30, ge=5, le=3600)
    session_expiry_s: int = Field(
        default=7 * 24 * 3600, ge=0, description="How long the broker keeps a persistent session's queue."
    )

    @field_validator("prefix")
    @classmethod
    def _check_prefix(cls, value: str) -> str:
        return check_prefix(value)

    @model_validator(mode="after")
    def _tls_files(self) -> Self:
        if (self.cert_file is None) != (self.key_file is None):
            raise ValueError("cert_file and key_file go together (mutual TLS needs both)")
        return self


class IngestSettings(_Section):
    """The MQTT → database consumer."""

    share_group: str = Field(default="ingest", description="MQTT v5 shared subscription group.")
    client_id: str | None = Field(default=None, description="Stable client id for the persistent session.")
    batch_size: int = Field(default=2000, ge=1, le=100_000, description="Messages per database transaction.")
    batch_ms: int = Field(default=200, ge=1, le=60_000, description="Longest wait before a batch is written.")
    max_payload_bytes: int = Field(default=1_048_576, ge=1024, description="Bigger payloads are dead-lettered.")
    dead_letter_keep_bytes: int = Field(default=65_536, ge=0, description="Raw bytes kept per dead letter.")
    metrics_port: int = Field(default=9464, ge=0, le=65535, description="Prometheus port; 0 turns it off.")
    max_future_s: float = Field(
        default=600.0,
        ge=0,
        le=7 * 24 * 3600,
        title="Future skew",
        description="Readings ending this far after the receiver's clock are dead-lettered (`future_reading`).",
    )
    max_age_days: float | None = Field(
        default=None,
        gt=0,
        title="Oldest reading",
        description=(
            "Readings starting longer ago are dead-lettered (`expired_reading`); the TimescaleDB retention "
            "policies set a shorter horizon per table by themselves."
        ),
    )
    min_heatmap_k: int = Field(
        default=2,
        ge=1,
        le=1000,
        title="Server-side k",
        description="Heatmap cells seen by fewer distinct tracks are dropped at ingest, whatever the edge's k.",
    )
    staging: Literal["typed", "json"] = Field(
        default="typed",
        title="Staging",
        description=(
            "How a batch reaches PostgreSQL: `typed` binary-COPYs every reading kind (counts, occupancy, "
            "zones, heatmap cells, tracks, heartbeats) in its column types (the fast path); `json` stages "
            "every message as JSON (the earlier path, kept for `footfall bench ingest` to compare). Device "
            "status is staged as JSON either way. Same rows, duplicates and conflicts either way."
        ),
    )


class ApiSettings(_Section):
    """The HTTP API."""

    host: str = Field(default="127.0.0.1")
    port: int = Field(default=8000, ge=1, le=65535)
    secret_key: SecretStr | None = Field(
        default=None,
        description=(
            "Signs bearer tokens: at least 32 random characters. Unset, the API makes a random key on "
            "first start and keeps it in the database (table app_secrets), shared by every worker."
        ),
    )
    token_minutes: int = Field(default=60, ge=1, le=7 * 24 * 60)
    cors_origins: list[str] = Field(default_factory=list)
    login_user_failures: int = Field(
        default=5, ge=1, le=1000, description="Failed log-ins for one user name before it is locked for a while."
    )
    login_address_failures: int = Field(
        default=20, ge=1, le=100_000, description="Failed log-ins from one client address before it is locked."
    )
    login_window_s: int = Field(
        default=900, ge=10, le=86_400, description="Failures older than this are forgotten; the longest lock."
    )
    login_lockout_s: int = Field(
        default=30, ge=1, le=86_400, description="The first lock; each further failure doubles it."
    )
    max_body_bytes: int = Field(
        default=8 * 1024 * 1024,
        ge=1024,
        description="Request bodies over this many bytes are refused with 413 before they are read.",
    )
    max_upload_bytes: int = Field(
        default=20 * 1024 * 1024,
        ge=1024,
        description="The same limit for file uploads (POST /v1/receipts/poslog).",
    )

    metrics_token: SecretStr | None = Field(
        default=None,
        description=(
            "Bearer token a Prometheus scraper sends to GET /metrics (at least 32 random characters); "
            "unset, /metrics answers 404 (off)."
        ),
    )

    @field_validator("secret_key", "metrics_token")
    @classmethod
    def _strong_secret(cls, value: SecretStr | None) -> SecretStr | None:
        return strong_secret(value)


class EdgeSettings(_Section):
    """Defaults for an edge agent; the agent's YAML file overrides them."""

    data_dir: Path = Field(default=Path(".local/edge"), description="Where the durable queue lives.")
    queue_max_bytes: int = Field(default=256 * 1024 * 1024, ge=1024 * 1024, description="Disk budget.")
    heartbeat_s: float = Field(default=30.0, gt=0, le=3600)
    metrics_port: int = Field(
        default=0,
        ge=0,
        le=65535,
        description=(
            "Prometheus port of the agent; 0 (the default) turns it off: the heartbeat already carries the "
            "box's health to the centre, and a store LAN is not a place to open ports nobody asked for."
        ),
    )
    metrics_host: str = Field(
        default="0.0.0.0",  # noqa: S104 - scraped from another host on the store LAN or VPN when turned on
        description="Address the agent's metrics listen on when metrics_port is set (127.0.0.1: this box only).",
    )


class AlertsSettings(_Section):
    """The alerts engine, its delivery worker and its channels."""

    cycle_s: float = Field(default=60.0, gt=0, le=3600, description="Evaluate every rule at least this often.")
    debounce_s: float = Field(
        default=0.5, ge=0, le=60, description="After a fresh-data notice, wait this long for more before evaluating."
    )
    public_url: str = Field(
        default="http://127.0.0.1:8000",
        description="Base URL of the API as subscribers reach it; links in messages start with it.",
    )
    link_secret: SecretStr | None = Field(
        default=None,
        description=(
            "Signs acknowledge/mute links in e-mail and Telegram messages: at least 32 random characters. "
            "Unset, a random key is made on first start and kept in the database (app_secrets)."
        ),
    )
    link_days: int = Field(default=7, ge=1, le=90, description="How long a signed link stays valid.")

    @field_validator("link_secret")
    @classmethod
    def _strong_link_secret(cls, value: SecretStr | None) -> SecretStr | None:
        return strong_secret(value)

    smtp_host: str = Field(default="127.0.0.1", description="SMTP server for e-mail alerts and digests.")
    smtp_port: int = Field(default=25, ge=1, le=65535)
    smtp_from: str = Field(default="footfall@localhost", description="From address of alert e-mail.")
    smtp_username: str | None = Field(default=None)
    smtp_password: SecretStr | None = Field(default=None)
    smtp_starttls: bool = Field(default=False, description="Upgrade the SMTP connection with STARTTLS.")
    telegram_api_url: str = Field(
        default="https://api.telegram.org",
        description="Telegram Bot API base URL (tests point it at a local stand-in).",
    )
    telegram_bot_token: SecretStr | None = Field(default=None, description="The bot's token from @BotFather.")
    webhook_allow: list[str] = Field(
        default_factory=list,
        description=(
            "Hosts or CIDR networks webhooks may target although they are private, loopback or link-local "
            "(e.g. ['127.0.0.1/32', 'hooks.internal']); everything else private is refused (SSRF guard)."
        ),
    )
    timeout_s: float = Field(default=10.0, gt=0, le=120, description="Per-attempt timeout of a delivery.")
    max_attempts: int = Field(default=12, ge=1, le=100, description="Attempts before a message is given up.")
    backoff_s: float = Field(default=5.0, gt=0, le=3600, description="First retry delay; doubles each attempt.")
    backoff_max_s: float = Field(default=3600.0, gt=0, le=86400, description="Longest retry delay.")
    metrics_port: int = Field(
        default=9470,
        ge=0,
        le=65535,
        description="Prometheus port of `footfall alerts run` (engine and delivery); 0 turns it off.",
    )


class Settings(BaseSettings):
    """Every setting of every Footfall process.

    Example:
        >>> Settings(environment="local").mqtt.port
        1883
    """

    model_config = SettingsConfigDict(env_prefix="FOOTFALL_", env_nested_delimiter="__", extra="ignore", env_file=None)

    environment: Literal["local", "test", "staging", "production"] = Field(
        default="local", description="Where this runs (local, test, staging, production)."
    )
    log_level: Literal["DEBUG", "INFO", "WARNING", "ERROR"] = "INFO"
    db: DbSettings = Field(default_factory=DbSettings)
    mqtt: MqttSettings = Field(default_factory=MqttSettings)
    ingest: IngestSettings = Field(default_factory=IngestSettings)
    api: ApiSettings = Field(default_factory=ApiSettings)
    edge: EdgeSettings = Field(default_factory=EdgeSettings)
    alerts: AlertsSettings = Field(default_factory=AlertsSettings)


@lru_cache(maxsize=1)
def get_settings() -> Settings:
    """The process-wide settings, read once from the environment."""
    return Settings()
