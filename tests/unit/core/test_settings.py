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


def test_production_refuses_the_development_secret() -> None:
    with pytest.raises(ValidationError, match="FOOTFALL_API__SECRET_KEY"):
        Settings(environment="production")
    with pytest.raises(ValidationError, match="FOOTFALL_ALERTS__LINK_SECRET"):
        Settings(environment="production", api={"secret_key": "x" * 40})
    Settings(environment="production", api={"secret_key": "x" * 40}, alerts={"link_secret": "y" * 40})


def test_bad_topic_prefix_is_refused() -> None:
    with pytest.raises(ValidationError, match="prefix"):
        Settings(mqtt={"prefix": "foot/+/fall"})


def test_mutual_tls_needs_both_files() -> None:
    with pytest.raises(ValidationError, match="go together"):
        Settings(mqtt={"cert_file": "/tmp/c.pem"})
