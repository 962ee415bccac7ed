"""Identity's refusals, each with the wire code the clients switch on."""

from laura.core.errors import AppError, Conflict, Unauthorized, ValidationFailed


class InvalidCredentials(Unauthorized):
    error = "INVALID_CREDENTIALS"
    code = "AUTH_001"
    message = "E-mail or password is incorrect"


class InvalidToken(Unauthorized):
    error = "INVALID_TOKEN"
    code = "AUTH_002"
    message = "The token is invalid, expired or revoked"


class RefreshTokenReused(Unauthorized):
    """A refresh token came back after it was rotated: someone has a copy, so the whole family dies."""

    error = "REFRESH_TOKEN_REUSED"
    code = "AUTH_003"
    message = "This refresh token was already used; the session has been revoked"
    commit_work = True


class EmailInUse(Conflict):
    error = "EMAIL_IN_USE"
    code = "AUTH_004"
    message = "An account with this e-mail already exists"


class CpfInUse(Conflict):
    error = "CPF_IN_USE"
    code = "AUTH_005"
    message = "An account with this CPF already exists"


class WeakPassword(ValidationFailed):
    code = "AUTH_006"


class UserNotFound(AppError):
    error = "USER_NOT_FOUND"
    status = 404
    code = "USR_001"
    message = "User not found"
