"""Small factories for the models; tests override only what they are about."""

from datetime import timedelta

import factory
from django.contrib.auth import get_user_model
from django.utils import timezone

from articles.models import Article, Author, Section
from payments.models import Appreciation


class UserFactory(factory.django.DjangoModelFactory):
    class Meta:
        model = get_user_model()
        django_get_or_create = ("username",)

    username = factory.Sequence(lambda n: f"user{n}")
    email = factory.LazyAttribute(lambda user: f"{user.username}@example.org")
    is_staff = True
    password = factory.django.Password("correct-horse-battery-staple")


class AuthorFactory(factory.django.DjangoModelFactory):
    class Meta:
        model = Author

    name = factory.Sequence(lambda n: f"Author {n}")
    slug = factory.Sequence(lambda n: f"author-{n}")
    bio = "Writes about the places others leave."


class SectionFactory(factory.django.DjangoModelFactory):
    class Meta:
        model = Section
        django_get_or_create = ("slug",)

    name = "Nieuws"
    name_en = "News"
    slug = "nieuws"


class ArticleFactory(factory.django.DjangoModelFactory):
    class Meta:
        model = Article

    title = factory.Sequence(lambda n: f"Article {n}")
    slug = factory.Sequence(lambda n: f"article-{n}")
    section = factory.SubFactory(SectionFactory)
    author = factory.SubFactory(AuthorFactory)
    lede = "A short standfirst."
    body = "First paragraph.\n\n## A sub-heading\n\nSecond paragraph."
    status = Article.Status.PUBLISHED
    published_at = factory.LazyFunction(lambda: timezone.now() - timedelta(hours=1))


class AppreciationFactory(factory.django.DjangoModelFactory):
    class Meta:
        model = Appreciation

    article = factory.SubFactory(ArticleFactory)
    author = factory.LazyAttribute(lambda appreciation: appreciation.article.author)
    amount = 500
    currency = "EUR"
