"""Support's policy (SLA and auto-close), from the app's settings."""

from __future__ import annotations

from typing import Annotated

from fastapi import Depends, Request

from laura.bank.support.policy import SupportPolicy, policy_of


async def _policy(request: Request) -> SupportPolicy:
    return policy_of(request.app.state.settings)


PolicyDep = Annotated[SupportPolicy, Depends(_policy)]
