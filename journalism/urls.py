"""Root URLs. Dutch lives at the root, English under /en/ (prefix_default_language=False),
so every URL maps to exactly one language and pages can be cached per URL."""

from django.conf import settings
from django.conf.urls.i18n import i18n_patterns
from django.conf.urls.static import static
from django.contrib import admin
from django.contrib.sitemaps.views import sitemap
from django.urls import include, path

from articles.sitemaps import SITEMAPS
from articles.views import robots_txt

urlpatterns = [
    path("i18n/", include("django.conf.urls.i18n")),
    # One robots.txt and one sitemap for both languages; the sitemap lists each language's URLs.
    path("robots.txt", robots_txt, name="robots-txt"),
    path("sitemap.xml", sitemap, {"sitemaps": SITEMAPS}, name="django.contrib.sitemaps.views.sitemap"),
]
urlpatterns += i18n_patterns(
    # Panel pages of reader feedback and the funnel, inside the admin's login (feedback.panel, funnel.panel).
    path("admin/panel/feedback/", include("feedback.panel_urls")),
    path("admin/panel/funnel/", include("funnel.panel_urls")),
    path("admin/", admin.site.urls),
    path("payments/", include("payments.urls")),
    path("feedback/", include("feedback.urls")),
    path("funnel/", include("funnel.urls")),
    path("", include("articles.urls")),
    prefix_default_language=False,
)
if settings.DEBUG:
    urlpatterns += static(settings.MEDIA_URL, document_root=settings.MEDIA_ROOT)
