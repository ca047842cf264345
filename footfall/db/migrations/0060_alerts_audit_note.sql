-- Alerts, continued (issue 12): why a state is not being judged, and the alert audit trail
-- folded into the shared audit log (issue 10's audit_log, read at GET /v1/audit).
-- Same on both storage paths.

-- Why the newest evaluation judged nothing ('' when it did): outside the schedule, too small
-- a sample, no data, no trained forecast model for a forecast_band rule, …
ALTER TABLE alert_states ADD COLUMN note text NOT NULL DEFAULT '';

-- Checkout queue rules judge zone minutes: a committed batch of them wakes the engine too
-- (the function is migration 0030's; statement-level, so a hypertable is fine).
CREATE TRIGGER zone_visits_alerts_fresh AFTER INSERT ON zone_visits
    FOR EACH STATEMENT EXECUTE FUNCTION footfall_alerts_fresh();

-- Acknowledgements, mutes and rule changes now go to audit_log (footfall.db.audit.record) as
-- `alert_<action>` on `alert:<state>` or `alert_rule:<rule>`, with `via` (api or link),
-- `rule_id`, `state_id` and `store_id` in `detail`. The old rows are copied in their order,
-- then alert_audit is dropped: one log, one place to look.
INSERT INTO audit_log (at, actor_id, actor, action, target, client, detail)
SELECT a.at, a.user_id, a.username, 'alert_' || a.action,
       CASE WHEN a.state_id IS NOT NULL THEN 'alert:' || a.state_id ELSE 'alert_rule:' || a.rule_id END,
       NULL,
       a.detail || jsonb_build_object('via', a.via, 'rule_id', a.rule_id, 'state_id', a.state_id,
                                      'store_id', r.store_id)
FROM alert_audit AS a
LEFT JOIN alert_rules AS r ON r.rule_id = a.rule_id
ORDER BY a.audit_id;

DROP TABLE alert_audit;
