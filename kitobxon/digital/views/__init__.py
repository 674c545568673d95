"""Pages of the digital library; each module exports its ``urlpatterns``."""
