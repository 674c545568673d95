"""OAI-PMH harvester: kitobxon harvest and scheduled harvests."""
