"""The one error type every layer raises, and the one JSON shape every failure answers with."""

from __future__ import annotations

from typing import Any, ClassVar


class AppError(Exception):
    """A failure the client should see: a stable machine `error`, an HTTP `status` and a `code`.

    Features subclass it with class attributes, e.g.::

        class InsufficientBalance(AppError):
            error = "INSUFFICIENT_BALANCE"
            status = 402
            code = "TRF_002"
            message = "Saldo insuficiente"
    """

    error: ClassVar[str] = "INTERNAL_ERROR"
    status: ClassVar[int] = 500
    code: ClassVar[str | None] = None
    message: str = "Internal error"
    commit_work: ClassVar[bool] = False
    """True for refusals that are decisions to keep (e.g. revoking a stolen token family): the unit of
    work commits before the error is answered instead of rolling back."""

    def __init__(
        self,
        message: str | None = None,
        *,
        details: Any = None,
        headers: dict[str, str] | None = None,
    ) -> None:
        if message is not None:
            self.message = message
        self.details = details
        self.headers = headers or {}
        super().__init__(self.message)

    def body(self, request_id: str | None) -> dict[str, Any]:
        payload: dict[str, Any] = {"error": self.error, "message": self.message}
        if self.code:
            payload["code"] = self.code
        if self.details is not None:
            payload["details"] = self.details
        payload["requestId"] = request_id
        return payload


class InternalError(AppError):
    """An unexpected failure: the client learns only that it happened and its request id."""


class ValidationFailed(AppError):
    error = "VALIDATION_ERROR"
    status = 422
    message = "Request validation failed"


class BadRequest(AppError):
    error = "BAD_REQUEST"
    status = 400
    message = "Bad request"


class Unauthorized(AppError):
    error = "UNAUTHORIZED"
    status = 401
    message = "Authentication required"


class Forbidden(AppError):
    error = "FORBIDDEN"
    status = 403
    message = "You are not allowed to do this"


class NotFound(AppError):
    error = "NOT_FOUND"
    status = 404
    message = "Not found"


class Conflict(AppError):
    error = "CONFLICT"
    status = 409
    message = "Conflict"


class PayloadTooLarge(AppError):
    error = "PAYLOAD_TOO_LARGE"
    status = 413
    message = "Request body is too large"


class RateLimited(AppError):
    error = "RATE_LIMITED"
    status = 429
    message = "Too many requests"

    def __init__(self, retry_after: int, message: str | None = None) -> None:
        super().__init__(message, headers={"Retry-After": str(max(1, retry_after))})
        self.retry_after = retry_after


class ExternalServiceError(AppError):
    error = "EXTERNAL_SERVICE_ERROR"
    status = 503
    message = "An external service is unavailable"
