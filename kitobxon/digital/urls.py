from kitobxon.digital.views import downloads, files, loans, manage, reader

app_name = "digital"

urlpatterns = [
    *files.urlpatterns,
    *reader.urlpatterns,
    *downloads.urlpatterns,
    *loans.urlpatterns,
    *manage.urlpatterns,
]
