"""Refusals of the money layer, each with a message an operator or the engine can show and a
stable ``code`` the API hands a shop (RFC 9457 problem details)."""


class CardsError(Exception):
    """Base of every refusal the cards services raise on purpose."""

    code = "refused"


class NotFound(CardsError):
    """An unknown project, number, tariff, card or reservation."""

    code = "not_found"


class InvalidInput(CardsError):
    """A value the domain does not accept (amount, PIN length, E.164 number, setting)."""

    code = "invalid_input"


class DenominationNotAllowed(InvalidInput):
    """A top-up amount that is not one of the project's denominations (seed 001)."""

    code = "denomination_not_allowed"


class BelowMinimum(InvalidInput):
    """A top-up under the project's minimum (seed 002)."""

    code = "below_minimum"


class Conflict(CardsError):
    """A duplicate or contradicting write (taken PIN, a card in a call, a second expiry)."""

    code = "conflict"


class IdempotencyKeyReused(Conflict):
    """An idempotency key bound to another request (card, operation or body)."""

    code = "idempotency_key_reused"


class Insufficient(CardsError):
    """Available credit (balance minus open reservations) does not cover the request."""

    code = "insufficient_funds"


class Refused(CardsError):
    """The card or line may not be used now (blocked, expired, locked out)."""


class CardExpired(Refused):
    """The card has expired (by hand or past its date): no money moves but the sweep."""

    code = "card_expired"


class CardBlocked(Refused):
    """The card is blocked: neither its holder nor a shop may load or spend it."""

    code = "card_blocked"


class TokenCapPerRequest(Refused):
    """An API move over its token's ``max_amount``."""

    code = "token_cap_per_request"


class TokenCapPerDay(Refused):
    """An API move that would take its token past ``max_amount_per_day`` (UTC day)."""

    code = "token_cap_per_day"
