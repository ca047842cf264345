"""The MQTT contract as an AsyncAPI 3 document, generated from the message models.

One channel per payload kind (`{prefix}/v1/{store_id}/{device_id}/{kind}`), one message
per channel whose payload schema is the pydantic model's JSON Schema, and two operations
per channel: the edge agent sends, ingest receives. One more channel, `alerts`
(`{prefix}/v1/{store_id}/alerts`), carries a store's retained alert state
(`footfall.core.alertstate.StoreAlerts`): the alerts delivery worker sends, in-store
screens receive. Model definitions live once under
`components.schemas` and every `$ref` points there, so the document is self-contained.

`docs/asyncapi.json` is this document, committed; a test regenerates it and fails when a
model changed without the document (`footfall schema asyncapi docs/asyncapi.json`).

Example:
    >>> doc = asyncapi_document()
    >>> doc["asyncapi"], sorted(doc["channels"])[:2]
    ('3.0.0', ['alerts', 'counts'])
"""

import json
from typing import Any

from pydantic.json_schema import models_json_schema

from footfall.core.alertstate import StoreAlerts
from footfall.core.messages import MESSAGE_TYPES, SCHEMA_VERSION
from footfall.core.topics import DEFAULT_PREFIX, VERSION, Kind

ASYNCAPI_VERSION = "3.0.0"
REF_TEMPLATE = "#/components/schemas/{model}"

_SUMMARIES: dict[Kind, str] = {
    Kind.COUNTS: "Door entries and exits (and passers-by) per interval, deltas computed at the edge.",
    Kind.OCCUPANCY: "People inside the store or a zone at the end of each interval.",
    Kind.HEATMAP: "Sparse floor-plan grid cells (metres), k-anonymous, per interval.",
    Kind.TRACKS: "Anonymous floor-plan polylines of tracked people (no image features).",
    Kind.ZONES: "Zone entries, exits, dwell times and occupancy per interval.",
    Kind.HEARTBEAT: "Device and sensor health: uptime, queue depth, camera state.",
    Kind.STATUS: "Retained online/offline state; `offline` is the MQTT Last Will.",
}


def asyncapi_document(*, prefix: str = DEFAULT_PREFIX) -> dict[str, Any]:
    """The AsyncAPI 3 document of every MQTT topic and payload.

    Args:
        prefix: the deployment's topic prefix (`FOOTFALL_MQTT__PREFIX`).

    Returns:
        A JSON-ready dict, valid against the AsyncAPI 3.0.0 JSON Schema.
    """
    kinds = sorted(MESSAGE_TYPES, key=lambda k: k.value)
    _, defs = models_json_schema(
        [*[(MESSAGE_TYPES[k], "validation") for k in kinds], (StoreAlerts, "validation")],
        by_alias=True,
        ref_template=REF_TEMPLATE,
    )
    schemas: dict[str, Any] = defs.get("$defs", {})
    channels: dict[str, Any] = {}
    operations: dict[str, Any] = {}
    messages: dict[str, Any] = {}
    for kind in kinds:
        model = MESSAGE_TYPES[kind]
        name = model.__name__
        messages[name] = {
            "name": name,
            "title": name,
            "summary": _SUMMARIES[kind],
            "contentType": "application/json",
            "payload": {"$ref": REF_TEMPLATE.format(model=name)},
        }
        channel: dict[str, Any] = {
            "address": f"{prefix}/{VERSION}/{{store_id}}/{{device_id}}/{kind.value}",
            "title": kind.value,
            "summary": _SUMMARIES[kind],
            "parameters": {
                "store_id": {"$ref": "#/components/parameters/store_id"},
                "device_id": {"$ref": "#/components/parameters/device_id"},
            },
            "messages": {name: {"$ref": f"#/components/messages/{name}"}},
            "bindings": {"mqtt": {"bindingVersion": "0.2.0"}},
        }
        channels[kind.value] = channel
        retain = kind is Kind.STATUS
        mqtt_binding = {"mqtt": {"qos": 1, "retain": retain, "bindingVersion": "0.2.0"}}
        operations[f"publish_{kind.value}"] = {
            "action": "send",
            "channel": {"$ref": f"#/channels/{kind.value}"},
            "summary": f"The edge agent publishes {kind.value} (QoS 1, persisted before publishing).",
            "messages": [{"$ref": f"#/channels/{kind.value}/messages/{name}"}],
            "bindings": mqtt_binding,
        }
        operations[f"ingest_{kind.value}"] = {
            "action": "receive",
            "channel": {"$ref": f"#/channels/{kind.value}"},
            "summary": (
                f"Ingest consumes {kind.value} on a shared subscription and acknowledges after commit; "
                "malformed input goes to dead letters."
            ),
            "messages": [{"$ref": f"#/channels/{kind.value}/messages/{name}"}],
            "bindings": mqtt_binding,
        }
    _alerts_channel(prefix, channels, operations, messages)
    return {
        "asyncapi": ASYNCAPI_VERSION,
        "info": {
            "title": "Footfall MQTT contract",
            "version": f"{VERSION}.{SCHEMA_VERSION}",
            "description": (
                "Every message an edge agent sends to the Footfall ingest over MQTT. Payloads are JSON with "
                "`schema`, `device_id`, `seq` (per device, increasing across restarts), `sent_at` and a list "
                "of readings, each with its own half-open UTC interval [start, end). Nothing that identifies "
                "a person is ever sent. The alerts engine publishes each store's current alert state, "
                "retained, for in-store screens."
            ),
            "license": {"name": "Apache-2.0"},
        },
        "defaultContentType": "application/json",
        "servers": {
            "broker": {
                "host": "localhost:1883",
                "protocol": "mqtt",
                "protocolVersion": "5",
                "description": "The deployment's broker (Mosquitto, or an EMQX cluster with shared subscriptions).",
            }
        },
        "channels": channels,
        "operations": operations,
        "components": {
            "schemas": schemas,
            "messages": messages,
            "parameters": {
                "store_id": {"description": "The store's id (letters, digits, `-`, `_`, `.`)."},
                "device_id": {"description": "The sending device's id, as registered for the store."},
            },
        },
    }


ALERTS_SUMMARY = (
    "A store's current alert state, every rule × subject (retained, QoS 1): republished on every "
    "transition (firing, resolved, escalated, acknowledged)."
)


def _alerts_channel(
    prefix: str, channels: dict[str, Any], operations: dict[str, Any], messages: dict[str, Any]
) -> None:
    """The `alerts` channel: one level shorter than device topics, so ingest never sees it."""
    name = StoreAlerts.__name__
    messages[name] = {
        "name": name,
        "title": name,
        "summary": ALERTS_SUMMARY,
        "contentType": "application/json",
        "payload": {"$ref": REF_TEMPLATE.format(model=name)},
    }
    channels["alerts"] = {
        "address": f"{prefix}/{VERSION}/{{store_id}}/alerts",
        "title": "alerts",
        "summary": ALERTS_SUMMARY,
        "parameters": {"store_id": {"$ref": "#/components/parameters/store_id"}},
        "messages": {name: {"$ref": f"#/components/messages/{name}"}},
        "bindings": {"mqtt": {"bindingVersion": "0.2.0"}},
    }
    binding = {"mqtt": {"qos": 1, "retain": True, "bindingVersion": "0.2.0"}}
    operations["publish_alerts"] = {
        "action": "send",
        "channel": {"$ref": "#/channels/alerts"},
        "summary": "The alerts delivery worker publishes the store's state, read at send time, retained.",
        "messages": [{"$ref": f"#/channels/alerts/messages/{name}"}],
        "bindings": binding,
    }
    operations["screen_alerts"] = {
        "action": "receive",
        "channel": {"$ref": "#/channels/alerts"},
        "summary": (
            "An in-store screen reads its own store's state (a read-only broker account: "
            "`footfall edge credentials add <user> --screen --store <store>`)."
        ),
        "messages": [{"$ref": f"#/channels/alerts/messages/{name}"}],
        "bindings": binding,
    }


def dumps_document(doc: dict[str, Any]) -> str:
    """Stable, readable JSON for the committed document."""
    return json.dumps(doc, indent=2, sort_keys=True, ensure_ascii=False) + "\n"
