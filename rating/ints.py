"""Integer guards: money and time are ints, never floats (a float is a TypeError)."""


def require_int(name: str, value: object, *, minimum: int | None = 0) -> int:
    """Return ``value`` when it is a plain int at or above ``minimum``; raise otherwise."""
    if isinstance(value, bool) or not isinstance(value, int):
        raise TypeError(f"{name} must be an int, not {type(value).__name__}")
    if minimum is not None and value < minimum:
        raise ValueError(f"{name} must be >= {minimum}, got {value}")
    return value


def ceil_div(numerator: int, denominator: int) -> int:
    """Exact integer ceiling of numerator / denominator for a positive denominator."""
    return -(-numerator // denominator)
