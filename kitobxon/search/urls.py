from django.urls import path

from kitobxon.search import views

app_name = "search"

urlpatterns = [
    path("search/", views.results, name="results"),
    path("search/suggest/", views.suggest, name="suggest"),
    path("search/zero-results/", views.zero_results, name="zero_results"),
]
