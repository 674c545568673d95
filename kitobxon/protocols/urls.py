from kitobxon.protocols.harvest import urls as harvest
from kitobxon.protocols.oai import urls as oai
from kitobxon.protocols.opds import urls as opds
from kitobxon.protocols.sru import urls as sru
from kitobxon.protocols.web import urls as web

app_name = "protocols"

urlpatterns = [
    *oai.urlpatterns,
    *opds.urlpatterns,
    *sru.urlpatterns,
    *harvest.urlpatterns,
    *web.urlpatterns,
]
