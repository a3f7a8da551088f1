from django import template

register = template.Library()


@register.inclusion_tag("payments/widget.html", takes_context=True)
def appreciation_widget(context, article):
    """The appreciation widget at the end of an article (filled in by the checkout work)."""
    return {"article": article, "request": context.get("request")}
