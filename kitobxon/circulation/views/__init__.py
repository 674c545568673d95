"""Circulation pages: the lending desk for staff, and the reader's own account."""
