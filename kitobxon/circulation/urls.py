from kitobxon.circulation.views import account, desk

app_name = "circulation"

urlpatterns = [*desk.urlpatterns, *account.urlpatterns]
