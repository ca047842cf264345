"""The HTTP API: KPIs, heatmaps, plans, receipts, auth, alerts and the dashboard."""
