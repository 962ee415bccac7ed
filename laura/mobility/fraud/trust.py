"""A user's trust score, 0 (certain fraud) to 100 (nothing against them), from the rules' signals: a pure
function with its weights here, so ops can read why a score is what it is.

Every open flag costs its rule's weight, a flag the review confirmed costs twice that (a cleared one costs
nothing: the review found no fraud), a suspension 30, and the raw signals of the last 24 hours cost a little
each, capped, so a burst of GPS glitches or a bad day of cancellations cannot alone sink a user.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field

from laura.mobility.fraud.models import Rule

OPEN_FLAG_WEIGHTS: Mapping[str, int] = {
    Rule.MAX_FARE: 15,
    Rule.LONG_ROUTE: 15,
    Rule.COLLUSION: 25,
    Rule.IMPOSSIBLE_MOVEMENT: 15,
    Rule.CANCELLATION_ABUSE: 10,
    Rule.CANCELLATION_SUSPENSION: 15,
}
OTHER_RULE_WEIGHT = 10
"""A rule another feature raises flags for (e.g. payouts' payout_pix_key_change)."""
CONFIRMED_FACTOR = 2
SUSPENDED_PENALTY = 30
REFUSED_MOVEMENT_PENALTY, REFUSED_MOVEMENTS_CAP = 2, 20
CANCELLATION_PENALTY, CANCELLATIONS_CAP = 1, 15


@dataclass(frozen=True)
class TrustSignals:
    open_flags: Mapping[str, int] = field(default_factory=dict)
    """Open flags per rule."""
    confirmed_flags: Mapping[str, int] = field(default_factory=dict)
    """Flags the review resolved as confirmed fraud, per rule."""
    refused_movements_24h: int = 0
    cancellations_24h: int = 0
    suspended: bool = False


def _weight(rule: str) -> int:
    return OPEN_FLAG_WEIGHTS.get(rule, OTHER_RULE_WEIGHT)


def trust_score(signals: TrustSignals) -> int:
    penalty = sum(_weight(rule) * n for rule, n in signals.open_flags.items())
    penalty += sum(_weight(rule) * CONFIRMED_FACTOR * n for rule, n in signals.confirmed_flags.items())
    penalty += min(signals.refused_movements_24h * REFUSED_MOVEMENT_PENALTY, REFUSED_MOVEMENTS_CAP)
    penalty += min(signals.cancellations_24h * CANCELLATION_PENALTY, CANCELLATIONS_CAP)
    penalty += SUSPENDED_PENALTY if signals.suspended else 0
    return max(0, 100 - penalty)
