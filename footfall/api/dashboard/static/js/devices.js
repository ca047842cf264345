/* Every counter, camera and edge agent of a store: last seen, health and why, queue depth, faults. */
"use strict";
(function () {
  const { config, api, h, table, csvLink, fill, failed } = window.FF;
  const path = `/v1/stores/${encodeURIComponent(config.store)}/devices`;
  const BAD = { stale: "red", offline: "red", never_seen: "red", fault: "warn" };

  function ago(s) {
    if (s === null) return "never";
    if (s < 90) return Math.round(s) + " s ago";
    if (s < 5400) return Math.round(s / 60) + " min ago";
    return Math.round(s / 3600) + " h ago";
  }

  async function refresh() {
    const d = await api(path);
    const counts = {};
    for (const x of d.data) counts[x.health] = (counts[x.health] || 0) + 1;
    fill("#device-summary", Object.entries(counts).map(([k, n]) =>
      h("span", { class: "badge " + (BAD[k] === "red" ? "bad" : BAD[k] ? "warn" : "ok"), "data-health": k }, `${n} ${k.replace("_", " ")}`)));
    document.getElementById("devices-asof").textContent = "as of " + new Date(d.as_of).toLocaleTimeString("en-GB");
    fill("#devices .body",
      table([{ key: "device_id", label: "Device" }, { key: "kind", label: "Kind" }, { key: "name", label: "Name" },
             { key: "health", label: "Health", value: (x) => h("span", { class: "badge " + (BAD[x.health] === "red" ? "bad" : BAD[x.health] ? "warn" : "ok"), "data-health": x.health }, x.health.replace("_", " ")) },
             { key: "reason", label: "Why" }, { label: "Last seen", value: (x) => h("span", { title: x.last_seen || "" }, ago(x.silent_s)) },
             { key: "queue_depth", label: "Queue", kind: "count" }, { key: "errors", label: "Errors", kind: "count" },
             { label: "Anomalies", value: (x) => x.faults.join(", ") || (x.invalid_counts ? "invalid counts" : "—") }],
        d.data.map((x) => Object.assign({ _key: x.device_id, _class: BAD[x.health] || null }, x)), { id: "devices-table" }),
      h("p", { class: "links" }, csvLink(path)));
    document.body.dataset.loaded = "true";
  }
  async function anomalies() {
    // Only where the models are installed (404 otherwise).
    const path = `/v1/stores/${encodeURIComponent(config.store)}/anomalies?first=${window.FF.addDays(config.today, -6)}&last=${config.today}`;
    let a;
    try { a = await api(path); } catch (e) {
      if (e instanceof window.FF.ApiError && e.status === 404) return;
      throw e;
    }
    document.getElementById("anomalies").hidden = false;
    fill("#anomalies .body", a.data.length
      ? table([{ key: "subject", label: "Subject" }, { key: "kind", label: "Kind" }, { label: "From", value: (x) => new Date(x.start).toLocaleString("en-GB") },
               { label: "To", value: (x) => new Date(x.end).toLocaleString("en-GB") }, { key: "score", label: "Score", kind: "dec" }, { key: "reason", label: "Why" }],
          a.data.map((x, i) => Object.assign({ _key: String(i) }, x)), { id: "anomalies-table" })
      : h("p", { class: "muted" }, "No anomaly in the last 7 days."),
      h("p", { class: "links" }, csvLink(path)));
  }
  anomalies().catch((e) => failed("#anomalies .body", e));

  const tick = () => refresh().catch((e) => failed("#devices .body", e));
  tick();
  setInterval(tick, 30000);
})();
