import os

from django.core.wsgi import get_wsgi_application

os.environ.setdefault("DJANGO_SETTINGS_MODULE", "journalism.settings")
application = get_wsgi_application()

# Pages this process keeps in memory are answered before Django's request handling.
from articles.caching import PageCacheApp  # noqa: E402 - needs the apps loaded above

application = PageCacheApp(application)
