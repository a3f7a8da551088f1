"""The panel's two roles, as Django groups: authors see their own work, editors see everything.

An author is a staff user linked to an `Author`; an editor is a member of the Editors group
(or a superuser). Permissions say what a role may do at all; the admin classes narrow an
author's rows to their own.
"""

from dataclasses import dataclass

from django.contrib.auth.models import AbstractBaseUser, Group, Permission
from django.http import HttpRequest

from articles.models import Author

AUTHORS_GROUP = "Authors"
EDITORS_GROUP = "Editors"

AUTHOR_PERMISSIONS = [
    "articles.add_article",
    "articles.change_article",
    "articles.view_article",
    "articles.view_section",
    "articles.view_author",
    "articles.change_author",
    "payments.view_appreciation",
    "payments.change_appreciation",
]
EDITOR_PERMISSIONS = [
    *AUTHOR_PERMISSIONS,
    "articles.delete_article",
    "articles.add_author",
    "articles.add_section",
    "articles.change_section",
    "payments.view_stripeevent",
]


def role_groups_ensure() -> tuple[Group, Group]:
    """Create or update both groups with their permissions; safe to run repeatedly."""
    groups = []
    for name, perms in ((AUTHORS_GROUP, AUTHOR_PERMISSIONS), (EDITORS_GROUP, EDITOR_PERMISSIONS)):
        group, _ = Group.objects.get_or_create(name=name)
        wanted = []
        for perm in perms:
            app_label, codename = perm.split(".")
            wanted.append(Permission.objects.get(content_type__app_label=app_label, codename=codename))
        group.permissions.set(wanted)
        groups.append(group)
    return groups[0], groups[1]


def author_role_grant(user: AbstractBaseUser, author: Author) -> None:
    authors, _ = role_groups_ensure()
    user.is_staff = True
    user.save(update_fields=["is_staff"])
    user.groups.add(authors)
    author.user = user
    author.save(update_fields=["user"])


def editor_role_grant(user: AbstractBaseUser) -> None:
    _, editors = role_groups_ensure()
    user.is_staff = True
    user.save(update_fields=["is_staff"])
    user.groups.add(editors)


def is_editor(user: AbstractBaseUser) -> bool:
    return bool(user.is_active and (user.is_superuser or user.groups.filter(name=EDITORS_GROUP).exists()))


def author_of(user: AbstractBaseUser) -> Author | None:
    """The author a login writes as, or None (editors need not be authors)."""
    return Author.objects.filter(user_id=user.pk).first() if user.is_authenticated else None


@dataclass(frozen=True)
class Viewer:
    """What a panel user may see: everything (editor) or one author's rows (author)."""

    editor: bool
    author: Author | None

    @property
    def has_role(self) -> bool:
        return self.editor or self.author is not None


def viewer_of(request: HttpRequest) -> Viewer:
    """The request user's role, computed once per request (two queries at most).

    An editor who is also an author sees everything; a staff user with neither role sees nothing.
    """
    cached = getattr(request, "_panel_viewer", None)
    if cached is not None:
        return cached
    user = request.user
    if not (user.is_authenticated and user.is_active and user.is_staff):
        viewer = Viewer(editor=False, author=None)
    else:
        viewer = Viewer(editor=is_editor(user), author=author_of(user))
    request._panel_viewer = viewer
    return viewer
