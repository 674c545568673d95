"""Circulation's JSON API: every reader and desk action, thin over services and queries."""

from ninja import Router

router = Router(tags=["circulation"])
