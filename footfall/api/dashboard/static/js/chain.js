/* The chain view: stores ranked, every store's KPIs, plan vs fact; all from the multi-store API. */
"use strict";
(function () {
  const { config, api, h, num, table, barChart, csvLink, fill, failed, addDays, KIND, LABEL } = window.FF;
  const first = addDays(config.today, -6), last = config.today;
  const kpiSel = document.getElementById("rank-kpi"), bySel = document.getElementById("rank-by");

  async function ranking() {
    const kpi = kpiSel.value, by = bySel.value;
    const path = `/v1/kpis/ranking?first=${first}&last=${last}&kpi=${kpi}&by=${by}&compare=previous_period`;
    const r = await api(path);
    const kind = by === "value" ? KIND[kpi] : "signed_pct";
    const vals = r.data.map((x) => (by === "value" ? x.value : x.change_ratio));
    fill("#ranking .body",
      barChart({ title: `Stores by ${LABEL[kpi]}`, kind, height: 180, labels: r.data.map((x) => x.name),
        series: [{ name: LABEL[kpi] + (by === "value" ? "" : " change"), values: vals.map((v) => (v === null ? null : Math.abs(v))) }] }),
      table([{ key: "rank", label: "#" }, { key: "name", label: "Store" },
             { key: "value", label: LABEL[kpi], kind: KIND[kpi], name: kpi },
             { key: "comparison", label: "Before", kind: KIND[kpi], name: kpi + "_comparison" },
             { key: "change_ratio", label: "Change", kind: "signed_pct", name: kpi + "_change" },
             { label: "", value: (x) => x.door_complete ? "" : h("span", { class: "badge warn" }, "door data incomplete") }],
            r.data.map((x) => Object.assign({ _key: x.store_id }, x)), { id: "ranking-table" }),
      h("p", { class: "links" }, csvLink(path)));
  }

  async function stores() {
    const path = `/v1/kpis/stores?first=${first}&last=${last}&compare=previous_period`;
    const p = await api(path);
    const cols = ["visitors", "transactions", "conversion", "atv", "upt", "revenue", "revenue_per_m2"];
    const rows = p.data.map((s) => {
      const row = { _key: s.store_id, name: h("a", { href: `/dashboard/stores/${encodeURIComponent(s.store_id)}` }, s.name) };
      for (const k of cols) row[k] = s.kpis[k] ? s.kpis[k].value : null;
      return row;
    });
    const total = { _key: "total", _class: "total", name: "All stores" };
    for (const k of cols) total[k] = p.total[k] ? p.total[k].value : null;
    fill("#stores .body",
      table([{ key: "name", label: "Store" }].concat(cols.map((k) => ({ key: k, label: LABEL[k], kind: KIND[k] }))),
        rows.concat([total]), { id: "stores-table" }),
      p.mixed_currencies ? h("p", { class: "badge warn" }, "Stores use several currencies: money totals are left out.") : null,
      h("p", { class: "links" }, csvLink(path)));
  }

  async function plans() {
    document.querySelector("#plans .month").textContent = config.month;
    const path = `/v1/plan-vs-fact?month=${config.month}`;
    const p = await api(path);
    const names = Object.fromEntries((await api("/v1/stores")).data.map((x) => [x.store_id, x.name]));
    fill("#plans .body",
      table([{ label: "Store", value: (x) => names[x.store_id] || x.store_id }, { key: "revenue_plan", label: "Plan", kind: "money" },
             { key: "revenue_fact", label: "Fact", kind: "money" }, { key: "achieved", label: "Achieved", kind: "pct" },
             { key: "pace", label: "Pace", kind: "pct" }, { key: "days_left", label: "Days left", kind: "count" },
             { key: "projection", label: "Projection", kind: "money" }],
        p.data.map((x) => Object.assign({ _key: x.store_id, _class: x.pace !== null && x.pace < 1 ? "red" : null }, x)),
        { id: "plans-table" }),
      h("p", { class: "links" }, csvLink(path)));
  }

  const rerank = () => ranking().catch((e) => failed("#ranking .body", e));
  kpiSel.addEventListener("change", rerank);
  bySel.addEventListener("change", rerank);
  Promise.all([rerank(), stores().catch((e) => failed("#stores .body", e)), plans().catch((e) => failed("#plans .body", e))])
    .then(() => { document.body.dataset.loaded = "true"; });
})();
