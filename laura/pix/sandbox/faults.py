"""Fault injection: what `POST /sandbox/faults` accepts and the sandbox consults as it works.

A request body sets one or more faults at once; they add to those already set, and
`DELETE /sandbox/faults` clears them all:

- `{"webhook": "drop", "times": N}`: the next N notifications are never delivered.
- `{"webhook": "duplicate", "copies": K, "times": N}`: each of the next N notifications is delivered
  K times (default 2), concurrently, as a PSP retrying an acknowledged delivery would.
- `{"webhook": "delay", "seconds": S, "times": N}`: the next N notifications wait S seconds first.
  A new webhook fault replaces the previous one; `times` defaults to 1.
- `{"http500": {"path_prefix": "/v2/cob", "count": N}}`: the next N API requests whose path starts
  with the prefix answer 500 (`/sandbox/` routes never fail). One counter per prefix.
- `{"send_fail_key": "<pix key>"}`: Pix sent to that key end `NAO_REALIZADO` (keys accumulate).
- `{"send_stuck": true}`: Pix sent from now on stay `EM_PROCESSAMENTO` until
  `POST /sandbox/pix/{idEnvio}/settle` (or `false` to stop).
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any, Literal

from pydantic import BaseModel, ConfigDict, Field, model_validator


class Http500Fault(BaseModel):
    model_config = ConfigDict(extra="forbid")

    path_prefix: str = Field(min_length=1, pattern=r"^/")
    count: int = Field(1, ge=1)


class FaultRequest(BaseModel):
    """The body of `POST /sandbox/faults`."""

    model_config = ConfigDict(extra="forbid")

    webhook: Literal["drop", "duplicate", "delay"] | None = None
    times: int = Field(1, ge=1)
    copies: int = Field(2, ge=2, le=100)
    seconds: float = Field(0.0, ge=0, le=600)
    http500: Http500Fault | None = None
    send_fail_key: str | None = Field(None, min_length=1)
    send_stuck: bool | None = None

    @model_validator(mode="after")
    def _consistent(self) -> FaultRequest:
        webhook_options = {"times", "copies", "seconds"} & self.model_fields_set
        if webhook_options and self.webhook is None:
            raise ValueError(f"{sorted(webhook_options)} only apply together with 'webhook'")
        if "copies" in self.model_fields_set and self.webhook != "duplicate":
            raise ValueError("'copies' only applies to webhook 'duplicate'")
        if "seconds" in self.model_fields_set and self.webhook != "delay":
            raise ValueError("'seconds' only applies to webhook 'delay'")
        if not self.model_fields_set:
            raise ValueError("no fault given")
        return self


@dataclass(slots=True)
class WebhookFault:
    mode: Literal["drop", "duplicate", "delay"]
    remaining: int
    copies: int = 1
    seconds: float = 0.0


class Faults:
    """The faults in force; each `take_*` consumes one use of a counted fault."""

    def __init__(self) -> None:
        self.clear()

    def clear(self) -> None:
        """Remove every fault (`DELETE /sandbox/faults`)."""
        self.webhook: WebhookFault | None = None
        self.http500: dict[str, int] = {}
        self.send_fail_keys: set[str] = set()
        self.send_stuck = False

    def apply(self, request: FaultRequest) -> None:
        """Add the faults of one `POST /sandbox/faults` body."""
        if request.webhook is not None:
            self.webhook = WebhookFault(
                mode=request.webhook,
                remaining=request.times,
                copies=request.copies if request.webhook == "duplicate" else 1,
                seconds=request.seconds,
            )
        if request.http500 is not None:
            self.http500[request.http500.path_prefix] = request.http500.count
        if request.send_fail_key is not None:
            self.send_fail_keys.add(request.send_fail_key)
        if request.send_stuck is not None:
            self.send_stuck = request.send_stuck

    def take_webhook(self) -> WebhookFault | None:
        """The fault for the notification about to go out, if any (and one use fewer left)."""
        fault = self.webhook
        if fault is None:
            return None
        fault.remaining -= 1
        if fault.remaining <= 0:
            self.webhook = None
        return fault

    def take_http500(self, path: str) -> bool:
        """Whether this request must fail with a 500 (consuming one use of the matching prefix)."""
        for prefix, left in self.http500.items():
            if path.startswith(prefix):
                if left <= 1:
                    del self.http500[prefix]
                else:
                    self.http500[prefix] = left - 1
                return True
        return False

    def snapshot(self) -> dict[str, Any]:
        """The faults in force, as `GET /sandbox/faults` shows them."""
        webhook = None
        if self.webhook is not None:
            webhook = {
                "mode": self.webhook.mode,
                "remaining": self.webhook.remaining,
                "copies": self.webhook.copies,
                "seconds": self.webhook.seconds,
            }
        return {
            "webhook": webhook,
            "http500": [{"path_prefix": p, "count": n} for p, n in self.http500.items()],
            "sendFailKeys": sorted(self.send_fail_keys),
            "sendStuck": self.send_stuck,
        }
