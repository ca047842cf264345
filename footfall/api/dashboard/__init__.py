"""The dashboard: server-rendered pages served by the API, filled by small same-origin scripts.

Pages are Jinja2 templates (`templates/`); their numbers come from the JSON API itself:
each page's script (`static/js/`) fetches the same endpoints a client of the API would,
with the session cookie, so a number on a page always equals the API's answer for the
same query. `install(app)` mounts the router and the static files.
"""

from footfall.api.dashboard.routes import install

__all__ = ["install"]
