"""Per-project settings with their defaults: warning lead, PIN length, lockout, top-up rules."""

from __future__ import annotations

from dataclasses import asdict, dataclass, field, fields
from typing import Any

from cards import validate
from cards.errors import InvalidInput
from cards.pins import check_length


@dataclass(frozen=True)
class ProjectSettings:
    warning_lead: int = 120
    pin_length: int = 8
    lockout_failures: int = 5
    lockout_window: int = 900
    denominations: tuple[int, ...] = ()
    minimum_topup: int = 0
    bonus: dict[str, int] = field(default_factory=dict)
    pin_tries_per_call: int = 3
    line_system: str = "basic"
    """The platform's system for this line (seed 004): ``basic`` or ``professional``."""

    def __post_init__(self) -> None:
        check_length(self.pin_length)
        if self.line_system not in ("basic", "professional"):
            raise InvalidInput("line_system must be basic or professional")
        for name in ("warning_lead", "lockout_window", "minimum_topup"):
            value = getattr(self, name)
            if isinstance(value, bool) or not isinstance(value, int) or value < 0:
                raise InvalidInput(f"{name} must be a whole number >= 0")
        if self.lockout_failures < 1 or self.pin_tries_per_call < 1:
            raise InvalidInput("lockout_failures and pin_tries_per_call must be at least 1")
        for name in ("warning_lead", "lockout_window", "minimum_topup", "lockout_failures"):
            validate.whole(getattr(self, name), name.replace("_", " "))
        if any(d <= 0 for d in self.denominations):
            raise InvalidInput("a denomination must be more than zero")
        for d in self.denominations:
            validate.whole(d, "denomination")
        object.__setattr__(self, "denominations", tuple(sorted(set(self.denominations))))
        for denom, extra in self.bonus.items():
            if int(denom) not in self.denominations or extra < 0:
                raise InvalidInput(f"bonus for {denom} needs that denomination and a bonus >= 0")

    @classmethod
    def from_dict(cls, data: dict[str, Any]) -> ProjectSettings:
        known = {f.name for f in fields(cls)}
        unknown = set(data) - known
        if unknown:
            raise InvalidInput(f"unknown project settings: {', '.join(sorted(unknown))}")
        return cls(**data)

    def as_dict(self) -> dict[str, Any]:
        data = asdict(self)
        data["denominations"] = list(self.denominations)
        return data

    def bonus_for(self, amount: int) -> int:
        return self.bonus.get(str(amount), 0)
