"""`footfall.api.main:app` for ASGI servers run with several workers (`footfall api run --workers N`)."""

from footfall.api.app import create_app
from footfall.core.logs import configure
from footfall.core.settings import get_settings

_settings = get_settings()
configure(_settings.log_level)
app = create_app(_settings)
