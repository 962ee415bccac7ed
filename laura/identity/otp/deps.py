"""The one-time code services, built from the app's keys and settings."""

from __future__ import annotations

from typing import Annotated

from fastapi import Depends, Request

from laura.core.db import SessionDep
from laura.identity.otp.service import OtpKeys, OtpPolicy, OtpService, Verifier


def verifier(request: Request) -> Verifier:
    state = request.app.state
    settings = state.settings
    return Verifier(
        state.db,
        keys=OtpKeys(cipher=state.cipher, hasher=state.otp_hasher),
        policy=OtpPolicy(
            issuer=settings.otp_issuer,
            code_ttl_seconds=settings.otp_code_ttl_seconds,
            send_interval_seconds=settings.otp_send_interval_seconds,
            max_failures=settings.otp_max_failures,
            lock_seconds=settings.otp_lock_seconds,
        ),
    )


VerifierDep = Annotated[Verifier, Depends(verifier)]


async def otp_service(session: SessionDep, checker: VerifierDep) -> OtpService:
    return OtpService(session, checker)


OtpServiceDep = Annotated[OtpService, Depends(otp_service)]
