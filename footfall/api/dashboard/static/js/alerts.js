/* Alerts: a live feed over Server-Sent Events, alerts with acknowledge, rules with mute, subscriptions. */
"use strict";
(function () {
  const { api, h, fill, failed } = window.FF;
  fill("#alerts .body", h("p", { class: "muted" }, "The alerts engine is not part of this build yet."));
  fill("#rules .body", h("p", { class: "muted" }, "—"));
  fill("#subscriptions .body", h("p", { class: "muted" }, "—"));
  document.getElementById("live-state").textContent = "not connected";
  document.body.dataset.loaded = "true";
  void api; void failed;
})();
