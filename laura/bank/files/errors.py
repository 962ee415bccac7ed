"""Errors of uploaded files."""

from __future__ import annotations

from laura.core.errors import AppError, NotFound


class FileNotFound(NotFound):
    """No such file, or one the caller may not read or attach: the same answer, so ids reveal nothing."""

    error = "FILE_NOT_FOUND"
    message = "Arquivo não encontrado"


class FileTooLarge(AppError):
    error = "FILE_TOO_LARGE"
    status = 413
    message = "Arquivo maior que o permitido"


class UnsupportedFileType(AppError):
    """The content (not its name nor its declared type) is not PNG, JPEG, PDF or plain text, or is empty."""

    error = "UNSUPPORTED_FILE_TYPE"
    status = 415
    message = "Tipo de arquivo não permitido: envie PNG, JPEG, PDF ou texto"


class FileContentMissing(AppError):
    """The row is there but its bytes are not in the store (a lost volume, a restore without the files):
    an operator's problem, said plainly instead of a 500."""

    error = "FILE_CONTENT_MISSING"
    status = 410
    message = "O conteúdo deste arquivo não está mais disponível; fale com o suporte"
