"""The edge box's stable install id: made once, kept in its data folder.

Default MQTT client ids carry it (with the topic prefix), so two deployments whose agents
happen to share a device id (`edge-1` in every demo) never share a persistent session on
one broker. It lives beside the queue: a box keeps it across restarts and upgrades, a
fresh data folder is a fresh install.
"""

import logging
import os
import secrets
from pathlib import Path

logger = logging.getLogger(__name__)

FILE = "install_id"


def install_id(data_dir: Path) -> str:
    """The id stored in `data_dir`, made (16 hex digits) on first use.

    Raises:
        OSError: the folder cannot be created or written.
    """
    path = data_dir / FILE
    try:
        value = path.read_text(encoding="ascii").strip()
        if value:
            return value
    except FileNotFoundError:
        pass
    data_dir.mkdir(parents=True, exist_ok=True)
    value = secrets.token_hex(8)
    tmp = path.with_suffix(".tmp")
    tmp.write_text(value + "\n", encoding="ascii")
    os.replace(tmp, path)  # atomic: two agents starting at once keep one of the two
    logger.info("made install id %s in %s", value, path)
    return path.read_text(encoding="ascii").strip()
