"""Identity's refusals, each with the wire code the clients switch on."""

from laura.core.errors import AppError, Conflict, RateLimited, Unauthorized, ValidationFailed


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


class VerificationRequired(Unauthorized):
    error = "VERIFICATION_REQUIRED"
    code = "OTP_001"
    message = "This action needs a verification code in the X-Verification-Code header"


class InvalidVerificationCode(Unauthorized):
    """Wrong, expired or already used: the three are one answer, so a guess learns nothing."""

    error = "INVALID_VERIFICATION_CODE"
    code = "OTP_002"
    message = "The verification code is wrong, expired or already used"


class VerificationLocked(RateLimited):
    error = "VERIFICATION_LOCKED"
    code = "OTP_003"
    message = "Too many wrong verification codes; try again later"


class OtpAlreadyEnrolled(Conflict):
    error = "OTP_ALREADY_ENROLLED"
    code = "OTP_004"
    message = "An authenticator is already confirmed for this account"


class OtpNotPending(Conflict):
    error = "OTP_NOT_PENDING"
    code = "OTP_005"
    message = "No authenticator is waiting for confirmation; enroll first"


class OtpUseAuthenticator(Conflict):
    error = "OTP_USE_AUTHENTICATOR"
    code = "OTP_006"
    message = "This account has an authenticator app: use its code instead of a sent one"


class OtpSendTooSoon(RateLimited):
    error = "OTP_SEND_TOO_SOON"
    code = "OTP_007"
    message = "A code was sent moments ago; wait before asking for another"
