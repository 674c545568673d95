"""Protocols: OAI-PMH, OPDS, SRU and the web's reference-manager hooks, as thin adapters over the
catalogue, search and digital library. Domain code never imports this package."""
