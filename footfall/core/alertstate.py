"""The retained alert state of a store on MQTT: `{prefix}/v1/{store_id}/alerts`.

In-store screens subscribe to their store's topic (the broker's ACL lets a screen account
read that one topic only, see `footfall.edge.credentials`). The alerts delivery worker
publishes this model, retained and QoS 1, whenever a state of the store changes (firing,
resolved, escalated, acknowledged), read at send time, so a screen that connects gets the
current state of every rule × subject at once and a retry never shows an older one. The
AsyncAPI document (`footfall.core.asyncapi`) describes it from this model.

Example:
    >>> StoreAlerts(store_id="riga-01", rules=[]).model_dump_json()
    '{"schema":1,"store_id":"riga-01","rules":[]}'
"""

from typing import Literal

from pydantic import AwareDatetime, BaseModel, ConfigDict, Field

from footfall.core.alertrules import Metric, Severity
from footfall.core.ids import Id

ALERTS_SCHEMA_VERSION: Literal[1] = 1


class AlertRuleState(BaseModel):
    """The current state of one rule × subject of the store."""

    model_config = ConfigDict(extra="forbid", frozen=True)

    state_id: int = Field(ge=1, description="The alert's id: `GET /v1/alerts/{state_id}`.")
    rule_id: int = Field(ge=1, description="The rule's id: `GET /v1/alert-rules/{rule_id}`.")
    name: str = Field(description="The rule's name, as every message shows it.")
    metric: Metric = Field(description="What the rule watches.")
    severity: Severity = Field(description="How urgent the rule's alerts are.")
    subject: str = Field(description="The zone, door or device judged; empty for the whole store.")
    state: Literal["ok", "pending", "firing", "resolved"] = Field(description="Where the state machine is.")
    since: AwareDatetime | None = Field(description="When the current state began.")
    value: float | None = Field(description="The newest value judged, in the metric's unit.")
    border: float | None = Field(description="The border it was judged against.")
    fired_at: AwareDatetime | None = Field(description="When it last fired.")
    acked_at: AwareDatetime | None = Field(description="When the firing alert was acknowledged, if it was.")
    note: str = Field(default="", description="Why the newest evaluation judged nothing; empty when it did.")


class StoreAlerts(BaseModel):
    """Every rule × subject of one store: the retained message of `{prefix}/v1/{store_id}/alerts`."""

    model_config = ConfigDict(
        extra="forbid", frozen=True, validate_by_name=True, validate_by_alias=True, serialize_by_alias=True
    )

    schema_version: Literal[1] = Field(
        default=ALERTS_SCHEMA_VERSION, alias="schema", title="Schema", description="Payload version; this is 1."
    )
    store_id: Id = Field(description="The store; matches the topic.")
    rules: list[AlertRuleState] = Field(description="The current state of each rule × subject, by rule and subject.")

    def to_json(self) -> bytes:
        """The wire form: compact UTF-8 JSON."""
        return self.model_dump_json().encode()
