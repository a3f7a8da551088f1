"""Create (or update) the staff login an author uses for the panel, in the Authors group."""

import getpass

from django.contrib.auth import get_user_model
from django.contrib.auth.password_validation import validate_password
from django.core.exceptions import ValidationError
from django.core.management.base import BaseCommand, CommandError
from django.db import transaction

from articles.models import Author
from articles.roles import author_role_grant, editor_role_grant


class Command(BaseCommand):
    help = "Give an author (or an editor) a staff login for the panel; prompts for the password."

    def add_arguments(self, parser):
        parser.add_argument("--author", help="Slug of the author this login writes as.")
        parser.add_argument("--username", required=True)
        parser.add_argument("--email", default="", help="Where notifications go.")
        parser.add_argument("--password", help="Prompted for when left out (safer: not in shell history).")
        parser.add_argument("--editor", action="store_true", help="Also an editor: sees every author.")

    def handle(self, *args, **options):
        if not options["author"] and not options["editor"]:
            raise CommandError("Give --author SLUG, --editor, or both.")
        author = None
        if options["author"]:
            author = Author.objects.filter(slug=options["author"]).first()
            if author is None:
                raise CommandError(f"No author with slug {options['author']!r}.")
            if author.user_id and author.user.get_username() != options["username"]:
                raise CommandError(f"{author} already has the login {author.user.get_username()!r}.")
        password = options["password"] or self._prompt()
        user_model = get_user_model()
        user = user_model.objects.filter(username=options["username"]).first() or user_model(
            username=options["username"]
        )
        try:
            validate_password(password, user)
        except ValidationError as error:
            raise CommandError(" ".join(error.messages)) from None
        with transaction.atomic():
            if options["email"]:
                user.email = options["email"]
            user.set_password(password)
            user.is_staff = True
            user.save()
            if author is not None:
                author_role_grant(user, author)
            if options["editor"]:
                editor_role_grant(user)
        self.stdout.write(f"Login {user.get_username()!r} ready; sign in at /admin/.")

    def _prompt(self) -> str:
        password = getpass.getpass("Password: ")
        if password != getpass.getpass("Password (again): "):
            raise CommandError("The passwords differ.")
        return password
