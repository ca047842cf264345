/* The merchandiser's page: heatmap on the floor plan, zones (reach, dwell, revenue per m², sales per
   visit), dead zones and hot spots, slow movers, paths and layout-change effects, for a date range. */
"use strict";
(function () {
  const { config, api, h, s, num, table, barChart, csvLink, fill, failed, addDays, ApiError } = window.FF;
  const base = `/v1/stores/${encodeURIComponent(config.store)}`;
  const firstIn = document.getElementById("merch-first"), lastIn = document.getElementById("merch-last");
  const metricIn = document.getElementById("merch-metric");
  firstIn.value = addDays(config.today, -6);
  lastIn.value = config.today;
  const q = () => `first=${firstIn.value}&last=${lastIn.value}`;
  const missing = (e) => e instanceof ApiError && e.status === 404;
  const secs = (v) => (v === null || v === undefined ? null : v);

  function heat(v, max) {
    // white → amber → red
    const t = max > 0 ? Math.min(1, v / max) : 0;
    const r = 255, g = Math.round(235 - 180 * t), b = Math.round(200 - 190 * t);
    return `rgb(${r},${g},${b})`;
  }

  async function heatmap() {
    const path = `${base}/heatmap?${q()}&metric=${metricIn.value}`;
    let m;
    try { m = await api(path); } catch (e) {
      if (missing(e)) { fill("#heatmap .body", h("p", { class: "muted" }, "No camera heatmaps in this installation.")); return; }
      throw e;
    }
    const W = m.cols * m.cell_m, H = m.rows * m.cell_m;
    const max = Math.max(0, ...m.data.map((c) => c.value));
    const svg = s("svg", { viewBox: `0 0 ${W} ${H}`, class: "chart floor", role: "img", "aria-label": "heatmap" },
      s("rect", { x: 0, y: 0, width: W, height: H, class: "floor-bg" }),
      m.data.map((c) => s("rect", { x: c.x * m.cell_m, y: c.y * m.cell_m, width: m.cell_m, height: m.cell_m, fill: heat(c.value, max) },
        s("title", {}, `${c.value.toFixed(1)} ${m.unit} · ${c.visits} visits`))));
    const top = m.data.slice().sort((a, b) => b.value - a.value).slice(0, 10)
      .map((c) => Object.assign({ _key: `${c.x},${c.y}`, cell: `${(c.x * m.cell_m + m.origin_m[0]).toFixed(1)} m, ${(c.y * m.cell_m + m.origin_m[1]).toFixed(1)} m` }, c));
    fill("#heatmap .body", h("figure", { class: "figure" }, svg),
      h("p", { class: "muted" }, `${m.metric} (${m.unit}) on floor ${m.floor_id}, ${m.cell_m} m cells, cameras ${m.cameras.join(", ") || "—"}; cells with fewer than ${m.k} visits left out (${m.suppressed_cells}).`),
      h("details", { class: "data" }, h("summary", {}, "Table (hottest cells)"),
        table([{ key: "cell", label: "Where" }, { key: "value", label: m.unit, kind: "dec" }, { key: "visits", label: "Visits", kind: "count" }], top)),
      h("p", { class: "links" }, h("a", { class: "csv", href: path }, "JSON")));
  }

  async function zones() {
    let path = `${base}/zones?${q()}`, z;
    try { z = await api(path); } catch (e) {
      if (!missing(e)) throw e;
      path = `${base}/kpis/zones?${q()}`;  // without camera zones: revenue per zone only
      z = await api(path);
    }
    const pct = (v) => (v === null || v === undefined ? null : v);
    fill("#zones .body",
      barChart({ title: "Revenue per m² by zone", kind: "money", height: 180, labels: z.data.map((r) => r.name),
        series: [{ name: "Revenue per m²", values: z.data.map((r) => r.revenue_per_m2) }] }),
      table([{ key: "name", label: "Zone" },
             { key: "reach", label: "Reach", kind: "pct", value: (r) => pct(r.reach) },
             { key: "dwell_median_s", label: "Dwell median s", kind: "count", value: (r) => secs(r.dwell_median_s) },
             { key: "dwell_p90_s", label: "p90 s", kind: "count", value: (r) => secs(r.dwell_p90_s) },
             { key: "revenue", label: "Revenue", kind: "money" },
             { key: "revenue_per_m2", label: "Revenue per m²", kind: "money" },
             { key: "sales_per_visit", label: "Sales per visit", kind: "money", value: (r) => r.sales_per_visit ?? null },
             { label: "", value: (r) => r.dead ? h("span", { class: "badge bad" }, "dead zone") : r.hot_spot ? h("span", { class: "badge warn" }, "hot spot") : "" }],
        z.data.map((r) => Object.assign({ _key: r.zone_id }, r)), { id: "zones-table" }),
      h("p", { class: "links" }, csvLink(path)));
    const badges = [];
    for (const id of z.dead_zones || []) badges.push(h("span", { class: "badge bad", "data-dead": id }, `dead zone: ${id}`));
    for (const id of z.hot_spots || []) badges.push(h("span", { class: "badge warn", "data-hot": id }, `hot spot: ${id}`));
    fill("#merch-badges", badges);
  }

  async function slow() {
    const path = `${base}/sales/products?${q()}`;
    let p;
    try { p = await api(path); } catch (e) {
      if (missing(e)) { fill("#slow .body", h("p", { class: "muted" }, "No product sales report in this installation.")); return; }
      throw e;
    }
    fill("#slow .body",
      table([{ key: "rank", label: "#" }, { key: "sku", label: "SKU" }, { key: "description", label: "Item" },
             { key: "category", label: "Category" }, { label: "Zone", value: (r) => r.zones.join(", ") || "—" },
             { key: "velocity", label: "Units/day", kind: "dec" }, { key: "days_since_last_sale", label: "Days since sale", kind: "count" },
             { key: "revenue", label: "Revenue", kind: "money" }],
        p.data.slice(0, 15).map((r) => Object.assign({ _key: r.sku }, r)), { id: "slow-table" }),
      h("p", { class: "links" }, csvLink(path)));
  }

  async function paths() {
    let p;
    try { p = await api(`${base}/paths?${q()}`); } catch (e) {
      if (missing(e)) { fill("#paths .body", h("p", { class: "muted" }, "No tracks in this installation.")); return; }
      throw e;
    }
    const flows = p.transitions.slice(0, 12);
    fill("#paths .body",
      flows.length ? barChart({ title: "Zone to zone", kind: "count", height: 160, labels: flows.map((f) => `${f.source}→${f.target}`),
        series: [{ name: "Walks", values: flows.map((f) => f.count) }] }) : h("p", { class: "muted" }, "No flows above the privacy floor yet."),
      table([{ key: "source", label: "From" }, { key: "target", label: "To" }, { key: "count", label: "Walks", kind: "count" }],
        flows.map((f) => Object.assign({ _key: `${f.source}-${f.target}` }, f)), { id: "paths-table" }),
      h("p", { class: "muted" }, `${p.polylines} anonymous polylines; ${p.suppressed_flows} flows under ${p.k} left out.`));
  }

  async function layout() {
    let l;
    try { l = await api(`${base}/layout-changes`); } catch (e) {
      if (missing(e)) { fill("#layout .body", h("p", { class: "muted" }, "No layout changes in this installation.")); return; }
      throw e;
    }
    if (!l.data.length) { fill("#layout .body", h("p", { class: "muted" }, "No layout change recorded.")); return; }
    const effects = await Promise.all(l.data.slice(-3).map((c) => api(`${base}/layout-changes/${c.change_id}/effect`).catch(() => null)));
    fill("#layout .body", effects.filter(Boolean).map((e) => h("div", {},
      h("p", {}, h("strong", {}, e.changed_on), " — ", e.summary),
      table([{ key: "zone_id", label: "Zone" }, { key: "metric", label: "Metric" }, { key: "before", label: "Before", kind: "dec" },
             { key: "after", label: "After", kind: "dec" }, { key: "change", label: "Change", kind: "signed_pct" }, { key: "verdict", label: "Verdict" }],
        e.data.map((r) => Object.assign({ _key: `${r.zone_id}-${r.metric}` }, r))))));
  }

  async function run() {
    document.body.dataset.loaded = "false";
    await Promise.all([
      zones().catch((e) => failed("#zones .body", e)),
      heatmap().catch((e) => failed("#heatmap .body", e)),
      slow().catch((e) => failed("#slow .body", e)),
      paths().catch((e) => failed("#paths .body", e)),
      layout().catch((e) => failed("#layout .body", e)),
    ]);
    document.body.dataset.loaded = "true";
  }
  for (const el of [firstIn, lastIn, metricIn]) el.addEventListener("change", run);
  void num;
  run();
})();
