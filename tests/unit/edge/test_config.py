"""edge.yaml: strict models, clear errors, the store cross-check, defaults from settings."""

from contextlib import ExitStack as DoesNotRaise
from pathlib import Path

import pytest

from footfall.core.errors import ConfigError
from footfall.core.settings import EdgeSettings, MqttSettings
from footfall.core.storeconfig import StoreConfig
from footfall.edge.config import EdgeConfig

ROOT = Path(__file__).resolve().parents[3]
BASE = {
    "store_id": "riga-01",
    "device_id": "riga-01-edge",
    "devices": [
        {"id": "riga-01-beam", "driver": "tcp", "host": "10.0.0.5", "door": "side"},
        {"id": "riga-01-stereo", "driver": "http", "lines": [{"line": "entrance", "door": "main"}]},
        {"id": "riga-01-staff", "driver": "mqtt", "topic": "sensors/staff", "door": "staff"},
    ],
}


def with_(**changes) -> dict:
    return {**BASE, **changes}


def test_example_edge_yaml_is_valid_and_matches_the_example_store() -> None:
    cfg = EdgeConfig.from_yaml(ROOT / "examples" / "edge.yaml")
    assert cfg.store_file is not None
    cfg.check_store(StoreConfig.from_yaml(cfg.store_file))
    assert [d.driver for d in cfg.devices] == ["tcp", "http", "mqtt"]


@pytest.mark.parametrize(
    ("data", "expectation"),
    [
        # the base configuration is fine
        (BASE, DoesNotRaise()),
        # an unknown field is refused, not ignored
        (with_(colour="red"), pytest.raises(ConfigError, match="colour: Extra inputs")),
        # an unknown driver names the allowed ones
        (with_(devices=[{"id": "x", "driver": "serial", "door": "d"}]), pytest.raises(ConfigError, match="tcp")),
        # two counters with one id
        (
            with_(devices=[BASE["devices"][0], BASE["devices"][0]]),
            pytest.raises(ConfigError, match="appear twice: riga-01-beam"),
        ),
        # the agent's own id listed as a counter
        (
            with_(devices=[{**BASE["devices"][0], "id": "riga-01-edge"}]),
            pytest.raises(ConfigError, match="also listed as a counter"),
        ),
        # a counter width that does not exist
        (
            with_(devices=[{**BASE["devices"][0], "counter_bits": 24}]),
            pytest.raises(ConfigError, match="counter_bits"),
        ),
        # a queue budget below 1 MiB
        (with_(queue={"max_bytes": 1000}), pytest.raises(ConfigError, match=r"queue\.max_bytes")),
        # a password both inline and in a file
        (
            with_(mqtt={"password": "x", "password_file": "/etc/pw"}),
            pytest.raises(ConfigError, match="password or password_file, not both"),
        ),
        # mutual TLS needs the key with the certificate
        (
            with_(mqtt={"tls": {"cert_file": "/etc/c.pem"}}),
            pytest.raises(ConfigError, match="cert_file and key_file go together"),
        ),
        # a wildcard in an MQTT counter's topic
        (
            with_(devices=[{**BASE["devices"][2], "topic": "sensors/+/counters"}]),
            pytest.raises(ConfigError, match="wildcards"),
        ),
        # a topic prefix with an MQTT wildcard
        (with_(mqtt={"prefix": "foot#fall"}), pytest.raises(ConfigError, match="prefix")),
        # an HTTP sensor with the same line twice
        (
            with_(devices=[{**BASE["devices"][1], "lines": [{"line": "a", "door": "main"}] * 2}]),
            pytest.raises(ConfigError, match="line id appears twice"),
        ),
        # an invalid store id (would become a topic level)
        (with_(store_id="riga/01"), pytest.raises(ConfigError, match="store_id")),
    ],
)
def test_edge_config_validation(data, expectation) -> None:
    with expectation:
        EdgeConfig.from_data(data, source="edge.yaml")


@pytest.mark.parametrize(
    ("change", "problem"),
    [
        # a store id other than the store file's
        ({"store_id": "tallinn-01"}, "store file is for 'riga-01'"),
        # an agent id that is not an edge device in the store
        ({"device_id": "riga-01-cam1"}, "not a device of kind edge"),
        # a counter the store does not know
        ({"devices": [{"id": "ghost", "driver": "tcp", "host": "h", "door": "side"}]}, "'ghost' is not in the store"),
        # a device configured with the wrong driver for its kind
        (
            {"devices": [{"id": "riga-01-beam", "driver": "mqtt", "topic": "t", "door": "side"}]},
            "is counter_tcp in the store file, not mqtt",
        ),
        # a door the device does not cover
        ({"devices": [{"id": "riga-01-beam", "driver": "tcp", "host": "h", "door": "main"}]}, "door 'main'"),
    ],
)
def test_edge_config_is_checked_against_the_store_file(change, problem) -> None:
    store = StoreConfig.from_yaml(ROOT / "examples" / "store.yaml")
    cfg = EdgeConfig.from_data({**BASE, **change})
    with pytest.raises(ConfigError, match=problem):
        cfg.check_store(store)


def test_broker_settings_fall_back_to_the_environment_settings(tmp_path: Path) -> None:
    secret = tmp_path / "pw"
    secret.write_text("s3cret-from-file\n")
    cfg = EdgeConfig.from_data(with_(mqtt={"username": "riga-01-edge", "password_file": str(secret)}))
    target = cfg.broker(MqttSettings(host="broker.example", port=8883, prefix="acme"), install_id="0123456789abcdef")
    assert (target.host, target.port, target.prefix, target.username) == (
        "broker.example",
        8883,
        "acme",
        "riga-01-edge",
    )
    assert target.password is not None
    assert target.password.get_secret_value() == "s3cret-from-file"
    assert target.client_id == "footfall-edge-acme-01234567-riga-01-edge"  # prefix and install id: per deployment
    assert cfg.queue_max_bytes(EdgeSettings(queue_max_bytes=5 * 1024 * 1024)) == 5 * 1024 * 1024


def test_missing_password_file_names_the_file(tmp_path: Path) -> None:
    cfg = EdgeConfig.from_data(with_(mqtt={"password_file": str(tmp_path / "nope")}))
    with pytest.raises(ConfigError, match=r"cannot read .*nope"):
        cfg.broker(MqttSettings())


def test_relative_paths_are_relative_to_the_file(tmp_path: Path) -> None:
    (tmp_path / "conf").mkdir()
    path = tmp_path / "conf" / "edge.yaml"
    path.write_text("store_id: s\ndevice_id: s-edge\ndata_dir: data\nmqtt: {password_file: pw}\n")
    cfg = EdgeConfig.from_yaml(path)
    assert cfg.data_dir == tmp_path / "conf" / "data"
    assert cfg.mqtt.password_file == tmp_path / "conf" / "pw"


def test_not_yaml_is_a_clear_error(tmp_path: Path) -> None:
    path = tmp_path / "edge.yaml"
    path.write_text("store_id: [unclosed\n")
    with pytest.raises(ConfigError, match="not valid YAML"):
        EdgeConfig.from_yaml(path)


@pytest.mark.parametrize(
    ("data", "expectation"),
    [
        # a camera with the store file that describes it
        (with_(store_file="store.yaml", cameras=[{"id": "riga-01-cam1", "source": "rtsp://cam/1"}]), DoesNotRaise()),
        # a camera without a store file: nothing says what it looks at
        (
            with_(cameras=[{"id": "riga-01-cam1", "source": 0}]),
            pytest.raises(ConfigError, match="cameras need store_file"),
        ),
        # a camera id that is also a counter's
        (
            with_(store_file="s.yaml", cameras=[{"id": "riga-01-beam", "source": 0}]),
            pytest.raises(ConfigError, match="appear twice"),
        ),
    ],
)
def test_cameras_in_edge_config(data, expectation) -> None:
    with expectation:
        EdgeConfig.from_data(data)


def test_a_camera_must_be_a_camera_in_the_store_file() -> None:
    store = StoreConfig.from_yaml(ROOT / "examples" / "store.yaml")
    cfg = EdgeConfig.from_data(with_(store_file="x.yaml", cameras=[{"id": "riga-01-staff-cam", "source": 0}]))
    with pytest.raises(ConfigError, match="not a device of kind camera"):
        cfg.check_store(store)
