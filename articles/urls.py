from django.urls import path

from articles import feeds, views

app_name = "articles"

urlpatterns = [
    path("", views.HomeView.as_view(), name="home"),
    path("artikel/<slug:slug>/", views.ArticleDetailView.as_view(), name="article-detail"),
    path("rubriek/<slug:slug>/", views.SectionDetailView.as_view(), name="section-detail"),
    path("auteur/<slug:slug>/", views.AuthorDetailView.as_view(), name="author-detail"),
    path("feed/", feeds.LatestArticlesFeed(), name="feed-rss"),
    path("feed/atom/", feeds.LatestArticlesAtomFeed(), name="feed-atom"),
    path("auteur/<slug:slug>/feed/", feeds.AuthorFeed(), name="author-feed-rss"),
    path("auteur/<slug:slug>/feed/atom/", feeds.AuthorAtomFeed(), name="author-feed-atom"),
]
