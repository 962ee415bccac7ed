"""One-time code requests and responses, with camelCase wire names."""

from __future__ import annotations

from pydantic import Field

from laura.core.schemas import ApiModel, RequestModel, UtcDatetime


class EnrollOut(ApiModel):
    otpauth_uri: str = Field(
        examples=["otpauth://totp/Laura:ana%40example.com?secret=JBSWY3DPEHPK3PXP&issuer=Laura"]
    )
    qr_code_png: str = Field(description="The URI's QR code: a PNG, base64-encoded")


class ConfirmRequest(RequestModel):
    code: str = Field(pattern=r"^[0-9]{6}$", examples=["123456"])


class ConfirmOut(ApiModel):
    confirmed_at: UtcDatetime


class SentOut(ApiModel):
    expires_at: UtcDatetime
