/* The wall screen: plan / fact / pace / days left, big, red when behind, refreshing itself. */
"use strict";
(function () {
  const { config, api, h, num, table, csvLink, fill, failed } = window.FF;

  function board(p, name) {
    const behind = p.pace !== null && p.pace < 1;
    const cell = (k, label, value, kind, cls) =>
      h("div", { class: "cell " + (cls || "") }, h("div", { class: "k" }, label), num(value, kind, k));
    return h("article", { class: "board" + (behind ? " red" : ""), "data-store": p.store_id, "data-behind": behind ? "true" : "false" },
      h("h2", {}, name),
      p.revenue_plan === null ? h("p", { class: "badge warn" }, "No plan for this month") : null,
      h("div", { class: "cells" },
        cell("revenue_plan", "Plan", p.revenue_plan, "money0"),
        cell("revenue_fact", "Fact", p.revenue_fact, "money0"),
        cell("pace", "Pace", p.pace, "pct", behind ? "red" : p.pace === null ? "" : "ok"),
        cell("days_left", "Days left", p.days_left, "count"),
        cell("achieved", "Achieved", p.achieved, "pct"),
        cell("projection", "Projection", p.projection, "money0", behind ? "red" : "")));
  }

  async function refresh() {
    const names = Object.fromEntries(Array.from(document.querySelectorAll("#store-picker option")).map((o) => [o.value, o.textContent]));
    const path = config.store ? `/v1/stores/${encodeURIComponent(config.store)}/plan-vs-fact?month=${config.month}`
                              : `/v1/plan-vs-fact?month=${config.month}`;
    const body = await api(path);
    const rows = config.store ? [body] : body.data;
    fill("#boards", rows.map((p) => board(p, names[p.store_id] || p.store_id)));
    fill("#wall-table", table([{ key: "store_id", label: "Store" }, { key: "revenue_plan", label: "Plan", kind: "money" },
      { key: "revenue_fact", label: "Fact", kind: "money" }, { key: "pace", label: "Pace", kind: "pct" },
      { key: "days_left", label: "Days left", kind: "count" }, { key: "projection", label: "Projection", kind: "money" }],
      rows.map((x) => Object.assign({ _key: x.store_id }, x))), config.store ? null : h("p", { class: "links" }, csvLink(path)));
    document.getElementById("wall-updated").textContent = "updated " + new Date().toLocaleTimeString("en-GB");
    document.body.dataset.loaded = "true";
  }
  const tick = () => refresh().catch((e) => failed("#boards", e));
  tick();
  setInterval(tick, (config.refresh_s || 60) * 1000);
})();
