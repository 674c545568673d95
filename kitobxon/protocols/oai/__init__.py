"""OAI-PMH 2.0 provider at /oai."""
