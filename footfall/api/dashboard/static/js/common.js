/* Footfall dashboard: helpers every page script uses. No framework, no inline scripts (CSP). */
"use strict";
(function () {
  const main = document.getElementById("main");
  const config = main && main.dataset.config ? JSON.parse(main.dataset.config) : {};
  const csrfMeta = document.querySelector('meta[name="csrf-token"]');
  const csrf = csrfMeta ? csrfMeta.content : "";

  class ApiError extends Error {
    constructor(status, detail) { super(detail); this.status = status; }
  }

  function toLogin() {
    location.href = "/dashboard/login?next=" + encodeURIComponent(location.pathname + location.search);
  }

  /** GET (or send) a JSON API path with the session cookie; problem documents become ApiError. */
  async function api(path, options) {
    const opts = Object.assign({ credentials: "same-origin", headers: {} }, options || {});
    opts.headers = Object.assign({ Accept: "application/json" }, opts.headers);
    if (opts.method && opts.method !== "GET") opts.headers["X-CSRF-Token"] = csrf;
    if (opts.json !== undefined) {
      opts.headers["Content-Type"] = "application/json";
      opts.body = JSON.stringify(opts.json);
      delete opts.json;
    }
    const r = await fetch(path, opts);
    if (r.status === 401) { toLogin(); throw new ApiError(401, "log in again"); }
    if (r.status === 204) return null;
    const body = await r.json().catch(() => ({}));
    if (!r.ok) throw new ApiError(r.status, body.detail || body.title || r.statusText);
    return body;
  }

  /** Build an element: h("td", {class: "num"}, "text", child, …). Text is never parsed as HTML. */
  function h(tag, attrs, ...children) {
    const e = document.createElement(tag);
    for (const [k, v] of Object.entries(attrs || {})) {
      if (v === null || v === undefined || v === false) continue;
      if (k === "class") e.className = v;
      else if (k === "text") e.textContent = v;
      else if (k.startsWith("on")) e.addEventListener(k.slice(2), v);
      else e.setAttribute(k, v === true ? "" : String(v));
    }
    for (const c of children.flat()) {
      if (c === null || c === undefined || c === false) continue;
      e.append(c instanceof Node ? c : document.createTextNode(String(c)));
    }
    return e;
  }

  const SVG = "http://www.w3.org/2000/svg";
  function s(tag, attrs, ...children) {
    const e = document.createElementNS(SVG, tag);
    for (const [k, v] of Object.entries(attrs || {})) if (v !== null && v !== undefined) e.setAttribute(k, String(v));
    for (const c of children.flat()) if (c !== null && c !== undefined) e.append(c instanceof Node ? c : document.createTextNode(String(c)));
    return e;
  }

  // What kind of number each KPI is, for formatting.
  const KIND = {
    visitors: "count", entries: "count", exits: "count", transactions: "count", refunds: "count",
    voids: "count", items: "count", conversion: "pct", capture_rate: "pct", loyalty_activation: "pct",
    revenue: "money", atv: "money", revenue_per_m2: "money", upt: "dec", shopper_to_staff: "dec",
  };
  const LABEL = {
    visitors: "Visitors", entries: "Entries", exits: "Exits", transactions: "Transactions", refunds: "Refunds",
    voids: "Voids", items: "Items", conversion: "Conversion", capture_rate: "Capture rate",
    loyalty_activation: "Loyalty activation", revenue: "Revenue", atv: "Average receipt", revenue_per_m2: "Revenue per m²",
    upt: "Items per receipt", shopper_to_staff: "Shoppers per staff",
  };
  const grouped0 = new Intl.NumberFormat("en-US", { maximumFractionDigits: 0 });
  const grouped2 = new Intl.NumberFormat("en-US", { minimumFractionDigits: 2, maximumFractionDigits: 2 });

  /** A number as the page shows it; the tests format API values the same way. */
  function fmt(value, kind) {
    if (value === null || value === undefined || value === "") return "—";
    const v = Number(value);
    switch (kind) {
      case "count": return grouped0.format(Math.round(v));
      case "pct": return (v * 100).toFixed(1) + " %";
      case "money": return grouped2.format(v);
      case "money0": return grouped0.format(Math.round(v));
      case "dec": return v.toFixed(2);
      case "signed_pct": return (v >= 0 ? "+" : "−") + Math.abs(v * 100).toFixed(1) + " %";
      default: return String(value);
    }
  }

  /** A number element carrying the raw API value, so what is shown can be checked against the API. */
  function num(value, kind, name, extra) {
    return h("span", Object.assign({
      class: "num", "data-kpi": name || null, "data-value": value === null || value === undefined ? "" : String(value),
      "data-kind": kind,
    }, extra || {}), fmt(value, kind));
  }

  function csvUrl(path) { return path + (path.includes("?") ? "&" : "?") + "format=csv"; }
  function csvLink(path, label) { return h("a", { class: "csv", href: csvUrl(path), download: "" }, label || "CSV"); }

  /** A table: columns [{key, label, kind}], rows of objects. */
  function table(columns, rows, attrs) {
    return h("div", { class: "table-wrap" }, h("table", attrs || {},
      h("thead", {}, h("tr", {}, columns.map((c) => h("th", { scope: "col", class: c.kind ? "n" : null }, c.label)))),
      h("tbody", {}, rows.map((r) => h("tr", { "data-row": r._key || null, class: r._class || null },
        columns.map((c) => {
          const v = typeof c.value === "function" ? c.value(r) : r[c.key];
          if (v instanceof Node) return h("td", { class: c.kind ? "n" : null }, v);
          return h("td", { class: c.kind ? "n" : null }, c.kind ? num(v, c.kind, c.name || c.key) : (v ?? "—"));
        }))))));
  }

  /** Grouped bars (and an optional band) in an SVG that scales with its box. */
  function barChart(opts) {
    const labels = opts.labels, series = opts.series, band = opts.band;
    const W = 640, H = opts.height || 220, L = 44, B = 24, T = 8, R = 8;
    let max = 0;
    for (const sr of series) for (const v of sr.values) if (v !== null && v !== undefined) max = Math.max(max, Number(v));
    if (band) for (const v of band.high) if (v !== null && v !== undefined) max = Math.max(max, Number(v));
    max = max > 0 ? max * 1.1 : 1;
    const y = (v) => T + (H - T - B) * (1 - Number(v) / max);
    const n = Math.max(labels.length, 1), slot = (W - L - R) / n, bw = Math.max(1, (slot * 0.8) / series.length);
    const svg = s("svg", { viewBox: `0 0 ${W} ${H}`, class: "chart", role: "img", "aria-label": opts.title || "chart",
                           preserveAspectRatio: "none" });
    for (let i = 0; i <= 4; i++) {
      const v = (max / 4) * i;
      svg.append(s("line", { x1: L, x2: W - R, y1: y(v), y2: y(v), class: "grid" }));
      svg.append(s("text", { x: L - 4, y: y(v) + 4, class: "axis", "text-anchor": "end" }, fmtAxis(v)));
    }
    if (band) {
      let d = "";
      band.high.forEach((v, i) => { d += (i ? "L" : "M") + (L + slot * (i + 0.5)) + "," + y(v ?? 0); });
      for (let i = band.low.length - 1; i >= 0; i--) d += "L" + (L + slot * (i + 0.5)) + "," + y(band.low[i] ?? 0);
      svg.append(s("path", { d: d + "Z", class: "band" }));
    }
    series.forEach((sr, k) => {
      sr.values.forEach((v, i) => {
        if (v === null || v === undefined) return;
        const x = L + slot * i + slot * 0.1 + bw * k, top = y(v);
        svg.append(s("rect", { x, y: top, width: Math.max(bw - 1, 1), height: Math.max(H - B - top, 0), class: sr.cls || "s" + k },
          s("title", {}, `${labels[i]} · ${sr.name}: ${fmt(v, opts.kind)}`)));
      });
    });
    const every = Math.ceil(n / 12);
    labels.forEach((lab, i) => {
      if (i % every) return;
      svg.append(s("text", { x: L + slot * (i + 0.5), y: H - 6, class: "axis", "text-anchor": "middle" }, lab));
    });
    const legend = h("p", { class: "legend" }, series.map((sr, k) => h("span", { class: "key " + (sr.cls || "s" + k) }, sr.name)),
      band ? h("span", { class: "key band" }, band.name) : null);
    return h("figure", { class: "figure" }, svg, legend);
  }

  function fmtAxis(v) {
    if (v === 0) return "0";
    if (v >= 1e6) return (v / 1e6).toFixed(1) + "M";
    if (v >= 1e4) return Math.round(v / 1e3) + "k";
    if (v >= 100) return String(Math.round(v));
    return v >= 10 ? v.toFixed(0) : v.toFixed(v < 1 ? 2 : 1);
  }

  /** A section body replaced by content, or by an error that says why. */
  function fill(sel, ...children) {
    const box = typeof sel === "string" ? document.querySelector(sel) : sel;
    if (!box) return;
    box.replaceChildren(...children.flat().filter((c) => c !== null && c !== undefined));
  }
  function failed(sel, err) {
    fill(sel, h("p", { class: "error" }, "Could not load: " + (err && err.message ? err.message : err)));
    if (!(err instanceof ApiError)) console.error(err);
  }

  function addDays(iso, n) {
    const d = new Date(iso + "T12:00:00Z");
    d.setUTCDate(d.getUTCDate() + n);
    return d.toISOString().slice(0, 10);
  }

  // Store picker: go to the same page of the chosen store.
  const picker = document.getElementById("store-picker");
  if (picker) {
    picker.addEventListener("change", () => {
      const page = picker.dataset.storePage, id = picker.value;
      if (page === "wall") location.href = "/dashboard/wall" + (id ? "/" + encodeURIComponent(id) : "");
      else location.href = "/dashboard/stores/" + encodeURIComponent(id) + (page === "store" ? "" : "/" + page) + location.search;
    });
  }

  // A clock in the store's time zone, running from the server's now (the instant the numbers are for).
  const clock = document.getElementById("clock");
  if (clock) {
    const offset = config.now ? Date.parse(config.now) - Date.now() : 0;
    const tick = () => {
      clock.textContent = new Date(Date.now() + offset).toLocaleString("en-GB", { timeZone: clock.dataset.timezone, weekday: "short",
        day: "numeric", month: "short", hour: "2-digit", minute: "2-digit" });
    };
    tick();
    setInterval(tick, 15000);
  }

  // Why a number is missing or should be read with care (the API's quality flags).
  const FLAG_TEXT = {
    no_customer_doors: "No customer door is configured: no traffic and no conversion.",
    door_data_incomplete: "Door counters covered too little of the opening hours: conversion is withheld.",
    door_data_invalidated: "A counter flagged some of its data invalid (sensor or camera fault).",
    pos_feed_gap: "People came in but no receipt arrived for a while: the POS feed may be behind.",
  };
  function qualityBadges(q) {
    const out = [];
    if (!q) return out;
    for (const f of q.flags || []) out.push(h("span", { class: "badge warn", "data-flag": f, title: FLAG_TEXT[f] || f }, FLAG_TEXT[f] || f));
    if (q.door_coverage !== null && q.door_coverage !== undefined && q.door_coverage < 1)
      out.push(h("span", { class: "badge", "data-flag": "coverage" }, "Door data covers " + fmt(q.door_coverage, "pct") + " of opening hours."));
    if (!out.length) out.push(h("span", { class: "badge ok", "data-flag": "none" }, "Data complete"));
    return out;
  }

  window.FF = { config, csrf, api, h, s, fmt, num, table, barChart, csvLink, csvUrl, fill, failed, addDays, KIND, LABEL,
                FLAG_TEXT, qualityBadges, ApiError };
})();
