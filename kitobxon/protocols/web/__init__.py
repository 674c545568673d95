"""Hooks for reference managers on the web: COinS and unAPI, so Zotero picks records up."""
