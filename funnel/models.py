from django.db import models
from django.utils.translation import gettext_lazy as _

from articles.models import Article


class DailyCount(models.Model):
    """Per article and day (site time zone): views, widget seen, checkouts started.

    Filled in batches by `manage.py funnel_flush` from counters in the cache, so a page view
    never writes to the database. No cookies, no personal data: only these numbers. Payments
    are not counted here; they come from the books (payments.selectors).
    """

    article = models.ForeignKey(
        Article, verbose_name=_("article"), on_delete=models.CASCADE, related_name="daily_counts"
    )
    day = models.DateField(_("day"))
    views = models.PositiveIntegerField(_("views"), default=0)
    seen = models.PositiveIntegerField(_("widget seen"), default=0)
    started = models.PositiveIntegerField(_("checkouts started"), default=0)

    class Meta:
        verbose_name = _("daily count")
        verbose_name_plural = _("daily counts")
        constraints = [models.UniqueConstraint(fields=["article", "day"], name="daily_count_once")]
        indexes = [models.Index(fields=["day"])]

    def __str__(self) -> str:
        return f"{self.article_id} {self.day}"
