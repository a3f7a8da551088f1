"""Reader feedback in the author panel: reason counts per period and the messages to moderate.

Scope as in the rest of the panel (payments.panel.scope_author): authors see only their own
articles (another author's article is a 404, another author's ?author= a 403), editors see
everything. Moderation is a POST per message: read, hide from the article, report as abuse.
"""

from django.contrib import admin
from django.core.exceptions import PermissionDenied
from django.core.paginator import Paginator
from django.http import Http404, HttpRequest, HttpResponse, HttpResponseBadRequest, HttpResponseRedirect
from django.shortcuts import get_object_or_404
from django.template.response import TemplateResponse
from django.urls import reverse
from django.utils.http import url_has_allowed_host_and_scheme
from django.utils.translation import gettext
from django.views.decorators.http import require_GET, require_POST

from articles.models import Article, Author
from articles.roles import Viewer, viewer_of
from feedback import selectors, services
from feedback.models import Feedback
from payments.panel import scope_author
from payments.reports import PeriodForm, site_today

MESSAGES_PER_PAGE = 25
MODERATION = {
    "read": lambda feedback: services.feedback_mark_read(feedback=feedback, read=True),
    "unread": lambda feedback: services.feedback_mark_read(feedback=feedback, read=False),
    "hide": lambda feedback: services.feedback_set_hidden(feedback=feedback, hidden=True),
    "show": lambda feedback: services.feedback_set_hidden(feedback=feedback, hidden=False),
    "report": lambda feedback: services.feedback_report(feedback=feedback, reported=True),
    "restore": lambda feedback: services.feedback_report(feedback=feedback, reported=False),
}


def _viewer(request: HttpRequest) -> Viewer:
    viewer = viewer_of(request)
    if not viewer.has_role:
        raise PermissionDenied
    return viewer


def scope_article(request: HttpRequest, viewer: Viewer, author: Author | None) -> Article | None:
    """The article of ?article=, only within what the viewer may see (404 otherwise)."""
    raw = request.GET.get("article", "")
    if not raw:
        return None
    if not raw.isdigit() or len(raw) > 18:
        raise Http404
    articles = Article.objects.select_related("author")
    if not viewer.editor:
        articles = articles.filter(author=viewer.author)
    elif author is not None:
        articles = articles.filter(author=author)
    return get_object_or_404(articles, pk=int(raw))


@require_GET
def feedback_overview(request: HttpRequest) -> TemplateResponse:
    viewer = _viewer(request)
    author = scope_author(request, viewer)
    article = scope_article(request, viewer, author)
    form = PeriodForm(request.GET or None)
    period = form.chosen_period(site_today())
    filters = {"author": author, "article": article, "start": period.start, "end": period.end}
    show_reported = request.GET.get("reported") == "1"
    messages = selectors.feedback_messages(include_reported=show_reported, **filters)
    page = Paginator(messages, MESSAGES_PER_PAGE).get_page(request.GET.get("page"))
    articles = Article.objects.filter(feedback__isnull=False).distinct().only("title").order_by("title")
    if author is not None:
        articles = articles.filter(author=author)
    query = request.GET.copy()
    query.pop("page", None)
    context = {
        **admin.site.each_context(request),
        "title": gettext("Reader feedback"),
        "form": form,
        "period": period,
        "scope_author": author,
        "scope_article": article,
        "authors": Author.objects.only("name") if viewer.editor else None,
        "articles": articles,
        "reasons": selectors.reason_counts(**filters),
        "counts": selectors.feedback_counts(**filters),
        "page": page,
        "show_reported": show_reported,
        "query": query.urlencode(),
        "next": request.get_full_path(),
    }
    request.current_app = admin.site.name
    return TemplateResponse(request, "feedback/panel/overview.html", context)


@require_POST
def feedback_moderate(request: HttpRequest, pk: int) -> HttpResponse:
    viewer = _viewer(request)
    action = request.POST.get("action", "")
    if action not in MODERATION:
        return HttpResponseBadRequest(gettext("Unknown action."))
    feedback = Feedback.objects.filter(pk=pk).select_related("article").first()
    if feedback is None or not (viewer.editor or feedback.article.author_id == viewer.author.pk):
        raise Http404
    MODERATION[action](feedback)
    target = request.POST.get("next", "")
    if not url_has_allowed_host_and_scheme(target, allowed_hosts={request.get_host()}):
        target = reverse("feedback_panel:overview")
    return HttpResponseRedirect(target)
