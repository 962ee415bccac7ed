"""Auth requests and responses with the wire names of the spec."""

from __future__ import annotations

import uuid
from typing import Literal

from pydantic import EmailStr, Field, field_validator

from laura.core.documents import normalize_cpf
from laura.core.schemas import ApiModel, RequestModel, UtcDatetime

Role = Literal["customer", "passenger", "driver", "staff", "admin"]
SelfServiceRole = Literal["customer", "passenger", "driver"]


class RegisterRequest(RequestModel):
    email: EmailStr = Field(max_length=254, examples=["ana@example.com"])
    password: str = Field(min_length=1, max_length=256, examples=["correct horse battery"])
    name: str = Field(min_length=2, max_length=120, examples=["Ana Souza"])
    phone: str | None = Field(default=None, max_length=32, examples=["+5511987654321"])
    cpf: str | None = Field(default=None, max_length=18, examples=["123.456.789-09"])
    user_type: SelfServiceRole = Field(default="customer", examples=["customer"])

    @field_validator("cpf")
    @classmethod
    def _cpf(cls, value: str | None) -> str | None:
        if value is None:
            return None
        digits = normalize_cpf(value)
        if digits is None:
            raise ValueError("CPF is invalid (check digits)")
        return digits


class LoginRequest(RequestModel):
    email: EmailStr = Field(max_length=254, examples=["ana@example.com"])
    password: str = Field(min_length=1, max_length=256)


class RefreshRequest(RequestModel):
    refresh_token: str = Field(min_length=10, max_length=512)


class TokenPair(ApiModel):
    access_token: str
    refresh_token: str
    token_type: str = "Bearer"
    expires_in: int


class UserOut(ApiModel):
    id: uuid.UUID
    email: str
    name: str
    phone: str | None
    cpf: str | None
    role: Role
    created_at: UtcDatetime
