"""Circulation: loan rules, the calendar, loans, renewals, holds and fines."""
