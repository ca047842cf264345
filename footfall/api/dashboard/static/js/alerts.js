/* Alerts: a live feed over Server-Sent Events, alerts with acknowledge, rules with mute, subscriptions. */
"use strict";
(function () {
  const { api, h, table, fill, failed, ApiError } = window.FF;
  const liveDot = document.getElementById("live"), liveState = document.getElementById("live-state");
  const feed = document.getElementById("feed-list");

  function when(iso) {
    return iso ? new Date(iso).toLocaleString("en-GB", { day: "numeric", month: "short", hour: "2-digit", minute: "2-digit" }) : "—";
  }
  function missing(e) { return e instanceof ApiError && e.status === 404; }
  const NOT_HERE = "The alerts engine is not part of this installation.";

  async function alerts() {
    const a = await api("/v1/alerts?limit=200");
    const rows = a.data.filter((x) => x.state !== "ok").map((x) => Object.assign({ _key: String(x.state_id),
      _class: x.state === "firing" ? "red" : null }, x));
    fill("#alerts .body", rows.length ? table([
      { key: "name", label: "Rule" }, { key: "store_id", label: "Store" }, { key: "subject", label: "Subject" },
      { label: "State", value: (x) => h("span", { class: "badge " + (x.state === "firing" ? "bad" : x.state === "pending" ? "warn" : "ok"), "data-state": x.state }, x.state) },
      { key: "value", label: "Value", kind: "dec" }, { key: "border", label: "Border", kind: "dec" },
      { label: "Since", value: (x) => when(x.fired_at || x.since) },
      { label: "", value: (x) => x.state === "firing" && !x.acked_at
          ? h("button", { class: "small", "data-ack": x.state_id, onclick: () => ack(x.state_id) }, "Acknowledge")
          : (x.acked_at ? "acknowledged " + when(x.acked_at) : "") },
    ], rows, { id: "alerts-table" }) : h("p", { class: "muted" }, "Nothing in the red zone."));
  }

  async function ack(stateId) {
    try { await api(`/v1/alerts/${stateId}/ack`, { method: "POST" }); }
    catch (e) { alert("Could not acknowledge: " + e.message); }
    await alerts().catch((e) => failed("#alerts .body", e));
  }

  async function rules() {
    const r = await api("/v1/alert-rules?limit=200");
    fill("#rules .body", r.data.length ? table([
      { key: "name", label: "Rule" }, { label: "Store", value: (x) => x.store_id || "every store" },
      { label: "Metric", value: (x) => `${x.spec.metric} ${x.spec.comparator || ""}` },
      { label: "State", value: (x) => !x.enabled ? "disabled" : x.muted_until && new Date(x.muted_until) > new Date() ? "muted until " + when(x.muted_until) : "active" },
      { label: "", value: (x) => x.muted_until && new Date(x.muted_until) > new Date()
          ? h("button", { class: "small", onclick: () => mute(x.rule_id, false) }, "Unmute")
          : h("button", { class: "small", "data-mute": x.rule_id, onclick: () => mute(x.rule_id, true) }, "Mute 1 h") },
    ], r.data.map((x) => Object.assign({ _key: String(x.rule_id) }, x)), { id: "rules-table" }) : h("p", { class: "muted" }, "No rules."));
  }

  async function mute(ruleId, on) {
    try {
      if (on) await api(`/v1/alert-rules/${ruleId}/mute`, { method: "POST", json: { minutes: 60 } });
      else await api(`/v1/alert-rules/${ruleId}/mute`, { method: "DELETE" });
    } catch (e) { alert("Could not change the mute: " + e.message); }
    await rules().catch((e) => failed("#rules .body", e));
  }

  async function subscriptions() {
    const s = await api("/v1/alert-subscriptions");
    fill("#subscriptions .body", s.data.length ? table([
      { key: "channel", label: "Channel" }, { key: "target", label: "Target" },
      { label: "Rule", value: (x) => x.rule_id ?? "any" }, { label: "Store", value: (x) => x.store_id ?? "any" },
      { key: "level", label: "Level" }, { key: "digest", label: "Digest" },
    ], s.data.map((x) => Object.assign({ _key: String(x.subscription_id) }, x)), { id: "subscriptions-table" })
      : h("p", { class: "muted" }, "No subscriptions: subscribe with POST /v1/alert-subscriptions (webhook, e-mail, Telegram)."));
  }

  function live() {
    const source = new EventSource("/v1/alerts/stream");
    source.onopen = () => { liveDot.classList.add("on"); liveState.textContent = "live"; };
    source.onerror = () => { liveDot.classList.remove("on"); liveState.textContent = "reconnecting…"; };
    const onEvent = (ev) => {
      let d = {};
      try { d = JSON.parse(ev.data); } catch (e) { return; }
      feed.prepend(h("li", { class: ev.type, "data-kind": ev.type, "data-state-id": d.state_id },
        h("strong", {}, when(d.at)), " ", d.headline || ev.type, d.value_text ? ` — ${d.value_text}, border ${d.border_text}` : ""));
      alerts().catch((e) => failed("#alerts .body", e));
    };
    for (const kind of ["firing", "resolved", "escalated", "acknowledged", "muted"]) source.addEventListener(kind, onEvent);
  }

  async function run() {
    try {
      await alerts();
    } catch (e) {
      if (missing(e)) {
        for (const sel of ["#alerts .body", "#rules .body", "#subscriptions .body"]) fill(sel, h("p", { class: "muted" }, NOT_HERE));
        liveState.textContent = "not available";
        document.body.dataset.loaded = "true";
        return;
      }
      failed("#alerts .body", e);
    }
    await Promise.all([rules().catch((e) => failed("#rules .body", e)), subscriptions().catch((e) => failed("#subscriptions .body", e))]);
    live();
    document.body.dataset.loaded = "true";
  }
  run();
})();
