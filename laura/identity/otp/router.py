"""`/api/security/otp/*`: enrol and confirm an authenticator app, or have a code sent."""

from __future__ import annotations

from typing import Any

from fastapi import APIRouter, Response, status

from laura.core.errors import AppError
from laura.identity.deps import CurrentUser
from laura.identity.errors import (
    InvalidToken,
    InvalidVerificationCode,
    OtpAlreadyEnrolled,
    OtpNotPending,
    OtpSendTooSoon,
    OtpUseAuthenticator,
    VerificationLocked,
)
from laura.identity.otp.deps import OtpServiceDep
from laura.identity.otp.schemas import ConfirmOut, ConfirmRequest, EnrollOut, SentOut

router = APIRouter(prefix="/api/security/otp", tags=["security"])


def _responses(*errors: type[AppError]) -> dict[int | str, dict[str, Any]]:
    return {
        e.status: {"description": " / ".join(x.error for x in errors if x.status == e.status)} for e in errors
    }


@router.post("/enroll", response_model=EnrollOut, responses=_responses(InvalidToken, OtpAlreadyEnrolled))
async def enroll(user: CurrentUser, service: OtpServiceDep, response: Response) -> EnrollOut:
    """A new TOTP secret as an `otpauth://` URI and its QR code, pending until confirmed."""
    response.headers["Cache-Control"] = "no-store"  # the answer holds the secret
    return await service.enroll(user.id, user.email)


@router.post(
    "/confirm",
    response_model=ConfirmOut,
    responses=_responses(InvalidVerificationCode, OtpNotPending, OtpAlreadyEnrolled, VerificationLocked),
)
async def confirm(body: ConfirmRequest, user: CurrentUser, service: OtpServiceDep) -> ConfirmOut:
    """Activate the pending authenticator with a code it shows now."""
    return await service.confirm(user.id, body.code)


@router.post(
    "/send",
    status_code=status.HTTP_202_ACCEPTED,
    response_model=SentOut,
    responses=_responses(InvalidToken, OtpUseAuthenticator, OtpSendTooSoon),
)
async def send(user: CurrentUser, service: OtpServiceDep) -> SentOut:
    """Send a 6-digit code valid 5 minutes as a `security.otp` event on the user's WebSocket (the stand-in
    for an SMS); only for a user without an authenticator app."""
    return await service.send(user.id)
