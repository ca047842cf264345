"""Alert rules, alerts (rule × scope states), subscriptions, mutes and the audit trail."""

from datetime import datetime
from typing import Literal

from pydantic import BaseModel, ConfigDict, Field

from footfall.core.alertrules import RuleSpec


class RulePublic(BaseModel):
    """A stored alert rule."""

    rule_id: int
    name: str
    store_id: str | None = Field(description="The rule's store; null: every store in the owner's scope.")
    owner_id: int | None
    source: Literal["api", "store_file"] = Field(description="Rules from a store file change only through the file.")
    enabled: bool
    muted_until: datetime | None
    spec: RuleSpec
    created_at: datetime
    updated_at: datetime


class RulesPublic(BaseModel):
    """Alert rules in your scope."""

    data: list[RulePublic]
    count: int


class AlertPublic(BaseModel):
    """The state of one rule × store × subject."""

    state_id: int
    rule_id: int
    name: str
    metric: str
    severity: str
    store_id: str
    subject: str = Field(description="Zone, door or device id; empty for the whole store.")
    state: Literal["ok", "pending", "firing", "resolved"]
    since: datetime | None
    fired_at: datetime | None
    resolved_at: datetime | None
    acked_at: datetime | None
    acked_by: int | None
    escalated_at: datetime | None
    value: float | None
    border: float | None
    evaluated_at: datetime | None
    note: str = Field(
        default="",
        description="Why the newest evaluation judged nothing (outside the schedule, no trained model…).",
    )


class AlertsPublic(BaseModel):
    """Alerts in your scope."""

    data: list[AlertPublic]
    count: int


class MuteRequest(BaseModel):
    """Mute a rule's personal notifications (states and in-store screens keep following it)."""

    model_config = ConfigDict(extra="forbid")

    minutes: int = Field(default=24 * 60, ge=1, le=90 * 24 * 60, description="How long, from now.")


class SubscriptionCreate(BaseModel):
    """Subscribe to a rule, a store, or everything in your scope."""

    model_config = ConfigDict(extra="forbid")

    channel: Literal["webhook", "email", "telegram"]
    target: str = Field(min_length=1, max_length=2000, description="Webhook URL, e-mail address or Telegram chat id.")
    rule_id: int | None = Field(default=None, description="Only this rule.")
    store_id: str | None = Field(default=None, description="Only this store.")
    level: Literal[1, 2] = Field(default=1, description="2: the escalation group (unacknowledged alerts).")
    digest: Literal["none", "daily", "weekly", "both"] = Field(
        default="none", description="Also receive digests (e-mail and Telegram only)."
    )


class SubscriptionPublic(BaseModel):
    """A subscription; `secret` (webhooks) is shown only when it is created."""

    subscription_id: int
    user_id: int
    channel: str
    target: str
    rule_id: int | None
    store_id: str | None
    level: int
    digest: str
    secret: str | None = Field(default=None, description="Webhook signing secret (Standard Webhooks `whsec_…`).")
    created_at: datetime


class SubscriptionsPublic(BaseModel):
    """Your subscriptions."""

    data: list[SubscriptionPublic]
    count: int


class AuditPublic(BaseModel):
    """Who acknowledged, muted or changed what."""

    audit_id: int
    at: datetime
    user_id: int | None
    username: str
    action: str
    via: str
    rule_id: int | None
    state_id: int | None
    detail: dict


class AuditsPublic(BaseModel):
    """The alert audit trail, newest first."""

    data: list[AuditPublic]
    count: int


class ActionDone(BaseModel):
    """What a signed link did."""

    action: Literal["acknowledged", "muted", "already acknowledged"]
    state_id: int
    rule_id: int
    by: str
    muted_until: datetime | None = None
