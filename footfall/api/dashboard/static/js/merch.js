/* The merchandiser's page: zones on the floor plan, revenue per m², for a chosen date range. */
"use strict";
(function () {
  const { config, api, h, table, barChart, csvLink, fill, failed, addDays } = window.FF;
  const base = `/v1/stores/${encodeURIComponent(config.store)}`;
  const firstIn = document.getElementById("merch-first"), lastIn = document.getElementById("merch-last");
  firstIn.value = addDays(config.today, -6);
  lastIn.value = config.today;

  async function zones() {
    const path = `${base}/kpis/zones?first=${firstIn.value}&last=${lastIn.value}`;
    const z = await api(path);
    fill("#zones .body",
      barChart({ title: "Revenue per m² by zone", kind: "money", height: 180, labels: z.data.map((r) => r.name),
        series: [{ name: "Revenue per m²", values: z.data.map((r) => r.revenue_per_m2) }] }),
      table([{ key: "name", label: "Zone" }, { key: "area_m2", label: "Area m²", kind: "dec" },
             { key: "revenue", label: "Revenue", kind: "money" }, { key: "items", label: "Items", kind: "count" },
             { key: "revenue_per_m2", label: "Revenue per m²", kind: "money" }],
        z.data.map((r) => Object.assign({ _key: r.zone_id }, r)), { id: "zones-table" }),
      h("p", { class: "links" }, csvLink(path)));
  }
  async function run() {
    await zones().catch((e) => failed("#zones .body", e));
    document.body.dataset.loaded = "true";
  }
  firstIn.addEventListener("change", run);
  lastIn.addEventListener("change", run);
  run();
})();
