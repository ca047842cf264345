import pytest
from pydantic import ValidationError

from footfall.core.settings import Settings


def test_nested_environment_variables(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("FOOTFALL_MQTT__PORT", "18830")
    monkeypatch.setenv("FOOTFALL_DB__URL", "postgresql://app@db.example:5433/ff")
    monkeypatch.setenv("FOOTFALL_DB__PASSWORD", "hunter2")
    s = Settings()
    assert s.mqtt.port == 18830
    assert s.db.dbname == "ff"
    assert "hunter2" not in repr(s)
    assert "hunter2" not in str(s.model_dump())
    assert "password=hunter2" in s.db.conninfo()


def test_password_in_url_is_refused() -> None:
    with pytest.raises(ValidationError, match="FOOTFALL_DB__PASSWORD"):
        Settings(db={"url": "postgresql://app:secret@db/ff"})


def test_read_replica_shares_the_password_and_refuses_one_in_its_url(monkeypatch: pytest.MonkeyPatch) -> None:
    with pytest.raises(ValidationError, match="FOOTFALL_DB__PASSWORD"):
        Settings(db={"replica_url": "postgresql://app:secret@replica/ff"})
    assert Settings(db={"url": "postgresql://app@primary/ff"}).db.replica() is None
    monkeypatch.setenv("FOOTFALL_DB__URL", "postgresql://app@primary:5432/ff")
    monkeypatch.setenv("FOOTFALL_DB__REPLICA_URL", "postgresql://app@replica:5432/ff")
    monkeypatch.setenv("FOOTFALL_DB__PASSWORD", "hunter2")
    s = Settings()
    replica = s.db.replica()
    assert replica is not None
    assert replica.url == "postgresql://app@replica:5432/ff"
    assert "password=hunter2" in replica.conninfo()
    assert replica.replica_url is None
    assert s.db.replica_max_lag_s == 30.0


@pytest.mark.parametrize(
    ("environment", "secret", "error"),
    [
        ("local", "change-me-local-development-only", "published"),  # the old default, refused even locally
        ("production", "change-me-local-development-only", "published"),
        ("local", "short", "at least 32"),  # too short anywhere
        ("production", "x" * 40, None),  # a long configured secret
        ("local", None, None),  # unset: the API makes a random one on first start
        ("production", None, None),
    ],
)
def test_token_secret_is_configured_strong_or_made_at_start(
    environment: str, secret: str | None, error: str | None
) -> None:
    api = {"secret_key": secret} if secret is not None else {}
    if error is None:
        s = Settings(environment=environment, api=api)
        assert (s.api.secret_key is None) == (secret is None)
    else:
        with pytest.raises(ValidationError, match=error):
            Settings(environment=environment, api=api)


def test_bad_topic_prefix_is_refused() -> None:
    with pytest.raises(ValidationError, match="prefix"):
        Settings(mqtt={"prefix": "foot/+/fall"})


def test_mutual_tls_needs_both_files() -> None:
    with pytest.raises(ValidationError, match="go together"):
        Settings(mqtt={"cert_file": "/tmp/c.pem"})


@pytest.mark.parametrize(
    ("secret", "error"),
    [
        ("change-me-local-development-only", "published"),  # main's old default for alert links too
        ("short", "at least 32"),
        ("y" * 40, None),
        (None, None),  # unset: a random key is made on first start and kept in the database
    ],
)
def test_alert_link_secret_is_configured_strong_or_made_at_start(secret: str | None, error: str | None) -> None:
    alerts = {"link_secret": secret} if secret is not None else {}
    if error is None:
        assert (Settings(environment="production", alerts=alerts).alerts.link_secret is None) == (secret is None)
    else:
        with pytest.raises(ValidationError, match=error):
            Settings(alerts=alerts)
