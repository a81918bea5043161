"""ASGI entry point."""

import os

from django.core.asgi import get_asgi_application

from config.database import web_connections_configure

os.environ.setdefault("DJANGO_SETTINGS_MODULE", "config.settings.production")
application = get_asgi_application()

# A web process: its connections open under the web's statement timeout, without parallel workers
# (config.database).
web_connections_configure()
