"""Red-zone alerts: rules, the engine that judges them, the outbox and the channels that deliver.

- `evaluate`: values and borders of rules from the KPI query layer and the fact tables;
- `state`: the ok → pending → firing → resolved state machine (pure);
- `engine`: evaluates on a schedule and on fresh data, writes states, events and outbox rows;
- `delivery`: drains the outbox with retries and backoff;
- `channels`: webhook (Standard Webhooks), e-mail (SMTP), Telegram, MQTT (retained);
- `digests`: daily and weekly summaries per subscriber.

See docs/alerts.md.
"""
