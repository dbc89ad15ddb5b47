"""Persistence and money: projects, numbers, tariffs, cards, PINs, lines, ledger, reservations."""
