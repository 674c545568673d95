from kitobxon.ledger.views import authenticity, checkpoints, reports

app_name = "ledger"

urlpatterns = [*checkpoints.urlpatterns, *authenticity.urlpatterns, *reports.urlpatterns]
