"""The HTTP API: auth, users, stores, receipts in and out, KPIs, multi-store roll-ups, plans and shifts.

`app.create_app()` builds it; `routes/` holds one router per resource, `schemas/` the
request and response models, `kpis/` the KPI layer; `problems.py` answers every error.
"""
