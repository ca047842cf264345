"""Device health: every counter, camera and edge agent of a store, with what was last heard of it."""

from datetime import datetime
from enum import StrEnum

from pydantic import BaseModel, Field


class Health(StrEnum):
    """A device's state as the operator should read it."""

    OK = "ok"
    FAULT = "fault"
    """It reports, but it (or its agent) says something is wrong."""
    STALE = "stale"
    """Nothing heard for longer than the silence limit."""
    OFFLINE = "offline"
    """Its agent's Last Will said offline."""
    NEVER_SEEN = "never_seen"
    INACTIVE = "inactive"
    """Switched off in the store configuration."""


class DevicePublic(BaseModel):
    """One device of a store."""

    device_id: str
    kind: str = Field(description="edge, counter_tcp, counter_http, counter_mqtt or camera.")
    name: str
    health: Health
    reason: str = Field(description="Why the health is what it is, in words.")
    last_seen: datetime | None = Field(description="The newest sign of life: heartbeat, agent report or count.")
    silent_s: float | None = Field(description="Seconds since last_seen.")
    status: str | None = Field(description="The agent's retained status (online/offline), edge agents only.")
    queue_depth: int | None = Field(description="Readings waiting in the store-and-forward queue of its agent.")
    uptime_s: float | None = Field(description="Seconds since the agent started (edge agents).")
    errors: int | None = Field(description="Errors its agent counted since it started.")
    faults: list[str] = Field(description="Faults its agent reports for it.")
    last_count_end: datetime | None = Field(description="End of its newest door count.")
    invalid_counts: bool = Field(description="Some of its recent counts were flagged invalid.")


class DevicesPublic(BaseModel):
    """Every device of a store."""

    store_id: str
    as_of: datetime
    silence_limit_s: float
    data: list[DevicePublic]
    count: int
