"""Refusals of the money layer, each with a message an operator or the engine can show."""


class CardsError(Exception):
    """Base of every refusal the cards services raise on purpose."""


class NotFound(CardsError):
    """An unknown project, number, tariff, card or reservation."""


class InvalidInput(CardsError):
    """A value the domain does not accept (amount, PIN length, E.164 number, setting)."""


class Conflict(CardsError):
    """A duplicate or contradicting write (same idempotency key, other content; taken PIN)."""


class Insufficient(CardsError):
    """Available credit (balance minus open reservations) does not cover the request."""


class Refused(CardsError):
    """The card or line may not be used now (blocked, expired, locked out)."""
