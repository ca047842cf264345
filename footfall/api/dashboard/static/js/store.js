/* The store manager's page: every number is fetched from the JSON API the page names. */
"use strict";
(function () {
  const { config, api, h, fmt, num, table, barChart, csvLink, fill, failed, addDays, KIND, LABEL, qualityBadges } = window.FF;
  const store = encodeURIComponent(config.store), today = config.today, period = config.period || "day";
  const base = `/v1/stores/${store}`;
  const TILES = ["visitors", "transactions", "conversion", "atv", "upt", "revenue", "revenue_per_m2"];

  const PERIOD = {
    day: { first: today, interval: "hour", compare: "same_weekday_last_week", label: "Today by hour", cmp: "same weekday last week" },
    week: { first: addDays(today, -6), interval: "day", compare: "previous_period", label: "Last 7 days by day", cmp: "the 7 days before" },
    month: { first: today.slice(0, 8) + "01", interval: "day", compare: "previous_period", label: "Month to date by day", cmp: "the same number of days before" },
    year: { first: addDays(today, -364), interval: "week", compare: "same_period_last_year", label: "12 months by week", cmp: "the year before" },
  }[period];
  const q = `first=${PERIOD.first}&last=${today}`;

  function bucketLabel(iso, interval) {
    const t = iso.slice(11, 13), d = new Date(iso.slice(0, 10) + "T12:00:00Z");
    if (interval === "hour" || interval === "15min") return t + (interval === "15min" ? ":" + iso.slice(14, 16) : ":00");
    return d.toLocaleDateString("en-GB", { day: "numeric", month: "short", timeZone: "UTC" });
  }

  function tiles(summary) {
    const byKpi = Object.fromEntries(summary.data.map((v) => [v.kpi, v]));
    fill("#tiles", TILES.map((k) => {
      const v = byKpi[k] || { value: null, comparison: null, change_ratio: null };
      const dir = v.change_ratio === null ? "" : v.change_ratio < 0 ? "down" : "up";
      return h("div", { class: "tile " + dir, "data-tile": k },
        h("div", { class: "label" }, LABEL[k]),
        h("div", { class: "value" }, num(v.value, KIND[k], k, { "data-source": "summary" })),
        h("div", { class: "change" }, v.change_ratio === null ? h("span", { class: "muted" }, "no comparison") :
          [num(v.change_ratio, "signed_pct", k, { "data-source": "summary-change" }), " vs ",
           num(v.comparison, KIND[k], k, { "data-source": "summary-comparison" })]));
    }));
    fill("#quality", h("span", { class: "muted" }, `Compared with ${PERIOD.cmp} (${summary.comparison_first || "—"} … ${summary.comparison_last || "—"}).`),
      qualityBadges(summary.quality));
  }

  async function traffic(summary) {
    const path = `${base}/kpis/series?${q}&interval=${PERIOD.interval}`;
    const cur = await api(path);
    let prev = { data: [] };
    if (summary.comparison_first) {
      prev = await api(`${base}/kpis/series?first=${summary.comparison_first}&last=${summary.comparison_last}&interval=${PERIOD.interval}`);
    }
    const rows = cur.data.map((r, i) => Object.assign({}, r, {
      _key: r.local_start, label: bucketLabel(r.local_start, PERIOD.interval),
      comparison_visitors: prev.data[i] ? prev.data[i].visitors : null,
    }));
    document.querySelector("#traffic .title").textContent = `Visitors · ${PERIOD.label} against ${PERIOD.cmp}`;
    fill("#traffic .body",
      barChart({ title: "Visitors", kind: "count", labels: rows.map((r) => r.label),
        series: [{ name: "This period", values: rows.map((r) => r.visitors) },
                 { name: PERIOD.cmp, values: rows.map((r) => r.comparison_visitors), cls: "cmp" }] }),
      h("details", { class: "data" }, h("summary", {}, "Table"),
        table([{ key: "label", label: "Bucket" }, { key: "visitors", label: "Visitors", kind: "count" },
               { key: "comparison_visitors", label: "Compared", kind: "count", name: "comparison_visitors" },
               { key: "transactions", label: "Transactions", kind: "count" }, { key: "conversion", label: "Conversion", kind: "pct" },
               { key: "revenue", label: "Revenue", kind: "money" }], rows, { id: "traffic-table" })),
      h("p", { class: "links" }, csvLink(path)));
  }

  async function plan() {
    const month = config.month;
    document.querySelector("#plan .month").textContent = month;
    const p = await api(`${base}/plan-vs-fact?month=${month}`);
    if (p.revenue_plan === null) {
      fill("#plan .body", h("p", { class: "badge" }, "No plan for this month: set one with PUT /v1/stores/{id}/plans/" + month + "."),
        h("p", {}, "Revenue so far: ", num(p.revenue_fact, "money", "revenue_fact")));
      return;
    }
    const behind = p.pace !== null && p.pace < 1;
    const expected = (p.days_passed / Math.max(p.days_passed + p.days_left, 1));
    const bar = h("div", { class: "progress" + (behind ? " red" : "") },
      h("div", { class: "fill" }), h("div", { class: "mark" }));
    bar.firstChild.style.width = Math.min(100, (p.achieved || 0) * 100).toFixed(1) + "%";
    bar.lastChild.style.left = (expected * 100).toFixed(1) + "%";
    fill("#plan .body", bar,
      h("dl", { class: "facts" + (behind ? " red" : "") },
        h("dt", {}, "Plan"), h("dd", {}, num(p.revenue_plan, "money", "revenue_plan")),
        h("dt", {}, "Fact"), h("dd", {}, num(p.revenue_fact, "money", "revenue_fact")),
        h("dt", {}, "Achieved"), h("dd", {}, num(p.achieved, "pct", "achieved")),
        h("dt", {}, "Pace"), h("dd", { class: behind ? "red" : "ok" }, num(p.pace, "pct", "pace")),
        h("dt", {}, "Days passed"), h("dd", {}, num(p.days_passed, "count", "days_passed")),
        h("dt", {}, "Days left"), h("dd", {}, num(p.days_left, "count", "days_left")),
        h("dt", {}, "Projection"), h("dd", {}, num(p.projection, "money", "projection"))),
      h("p", { class: "muted" }, p.days_passed === 0
        ? "No day of this month is complete yet: fact counts whole days, up to yesterday."
        : `Fact up to ${p.as_of}; pace is fact against the plan's share of the days passed.`));
  }

  async function occupancy() {
    const path = `${base}/kpis/occupancy?day=${today}`;
    const o = await api(path);
    const rows = o.data.map((r) => Object.assign({}, r, { label: bucketLabel(r.local_start, "15min") }));
    fill("#occupancy .body",
      h("p", { class: "big" }, num(o.now, "count", "occupancy_now"), h("span", { class: "muted" }, " inside now (doors)")),
      o.measured !== null ? h("p", {}, "Measured by cameras: ", num(o.measured, "count", "occupancy_measured")) : null,
      barChart({ title: "People inside", kind: "count", height: 140, labels: rows.map((r) => r.label),
        series: [{ name: "People inside", values: rows.map((r) => r.occupancy), cls: "occ" }] }),
      h("details", { class: "data" }, h("summary", {}, "Table"),
        table([{ key: "label", label: "From" }, { key: "entries", label: "Entries", kind: "count" },
               { key: "exits", label: "Exits", kind: "count" }, { key: "occupancy", label: "Inside", kind: "count" }], rows)),
      h("p", { class: "links" }, csvLink(path)));
  }

  async function revenueChange() {
    const r = await api(`${base}/kpis/revenue-change?${q}&compare=${PERIOD.compare}`);
    if (r.traffic === null) {
      fill("#revenue-change .body", h("p", { class: "badge" }, r.reason || "No split available."),
        h("p", {}, "Revenue ", num(r.revenue, "money", "revenue"), " against ", num(r.comparison_revenue, "money", "comparison_revenue")));
      return;
    }
    const parts = [["traffic", "Traffic"], ["conversion", "Conversion"], ["atv", "Basket (ATV)"]];
    const max = Math.max(...parts.map(([k]) => Math.abs(r[k])), 1e-9);
    fill("#revenue-change .body",
      h("p", {}, "Revenue ", num(r.revenue, "money", "revenue"), " against ", num(r.comparison_revenue, "money", "comparison_revenue"),
        ": change ", num(r.total, "money", "total"), "."),
      h("div", { class: "split" }, parts.map(([k, label]) => {
        const bar = h("span", { class: "bar " + (r[k] < 0 ? "neg" : "pos") });
        bar.style.width = (Math.abs(r[k]) / max * 50).toFixed(1) + "%";
        return h("div", { class: "split-row" }, h("span", { class: "label" }, label), h("span", { class: "track" }, bar),
          num(r[k], "money", k));
      })),
      h("p", { class: "muted" }, "The three parts add up to the change (log-mean Divisia split)."));
  }

  async function forecast() {
    // Only where the models are installed (404 otherwise): today's band by hour, staffing, power hours.
    if (period !== "day") return;
    let f, st;
    try {
      [f, st] = await Promise.all([api(`${base}/forecast?${q}&interval=hour`), api(`${base}/staffing?${q}`)]);
    } catch (e) {
      if (e instanceof window.FF.ApiError && e.status === 404) return;
      throw e;
    }
    document.getElementById("forecast").hidden = false;
    const actual = await api(`${base}/kpis/series?${q}&interval=hour`);
    const byStart = Object.fromEntries(actual.data.map((r) => [r.start, r.visitors]));
    const rows = f.data.map((r) => ({ _key: r.local_start, label: bucketLabel(r.local_start, "hour"), actual: byStart[r.start] ?? null,
      mean: r.entries.mean, lower: r.entries.lower, upper: r.entries.upper }));
    const staff = st.data.filter((r) => Number(r.visitors) > 0 || r.staff > 0 || r.scheduled_staff)
      .map((r) => Object.assign({ _key: r.local_start, label: bucketLabel(r.local_start, "hour") }, r));
    fill("#forecast .body",
      barChart({ title: "Visitors and forecast band", kind: "count", labels: rows.map((r) => r.label),
        series: [{ name: "Visitors so far", values: rows.map((r) => r.actual) }],
        band: { name: "Forecast 10–90 %", low: rows.map((r) => r.lower), high: rows.map((r) => r.upper) } }),
      h("details", { class: "data" }, h("summary", {}, "Table"),
        table([{ key: "label", label: "Hour" }, { key: "actual", label: "Visitors", kind: "count", name: "visitors" },
               { key: "mean", label: "Forecast", kind: "count", name: "forecast" }, { key: "lower", label: "Low", kind: "count", name: "forecast_low" },
               { key: "upper", label: "High", kind: "count", name: "forecast_high" }], rows, { id: "forecast-table" })),
      h("p", { class: "links" }, csvLink(`${base}/forecast?${q}&interval=hour`), " ", h("span", { class: "muted" }, `model ${f.model_version}`)),
      h("h3", {}, "Staff to plan"),
      table([{ key: "label", label: "Hour" }, { key: "visitors", label: "Visitors", kind: "count" },
             { key: "staff", label: "Staff", kind: "count" }, { key: "staff_busy", label: "If busy", kind: "count" },
             { key: "scheduled_staff", label: "On shift", kind: "dec" }], staff, { id: "staffing-table" }),
      h("p", { class: "links" }, csvLink(`${base}/staffing?${q}`), " Power hours: ",
        st.power_hours.map((p) => bucketLabel(p.local_start, "hour")).join(", ") || "—"));
  }

  async function run() {
    const summaryPath = `${base}/kpis/summary?${q}&compare=${PERIOD.compare}`;
    const summary = api(summaryPath);
    const jobs = [
      summary.then(tiles).catch((e) => failed("#tiles", e)),
      summary.then(traffic).catch((e) => failed("#traffic .body", e)),
      plan().catch((e) => failed("#plan .body", e)),
      occupancy().catch((e) => failed("#occupancy .body", e)),
      revenueChange().catch((e) => failed("#revenue-change .body", e)),
      forecast().catch((e) => { document.getElementById("forecast").hidden = false; failed("#forecast .body", e); }),
    ];
    await Promise.all(jobs);
    document.body.dataset.loaded = "true";
  }
  run();
})();
