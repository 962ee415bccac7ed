"""QR code images of a BR Code payload, for the web UI, e-mails and API responses."""

from __future__ import annotations

import base64
import functools
import io

import segno

# Error correction M: about 15% of the symbol can be damaged and still read, without making the dense
# Pix payload hard to scan. 8 pixels per module puts a typical Pix QR (41 modules) near 400 px; 4 modules
# of quiet zone is the QR standard's minimum.
_SCALE = 8
_BORDER = 4


def _qr(payload: str) -> segno.QRCode:
    return segno.make_qr(payload, error="m", boost_error=False)


def qr_png(payload: str) -> bytes:
    """The PNG of the payload's QR code, to serve as a file or attach to an e-mail."""
    buffer = io.BytesIO()
    _qr(payload).save(buffer, kind="png", scale=_SCALE, border=_BORDER)
    return buffer.getvalue()


def qr_svg(payload: str) -> str:
    """The SVG of the payload's QR code, without XML declaration, to inline in an HTML page."""
    buffer = io.BytesIO()
    _qr(payload).save(buffer, kind="svg", scale=_SCALE, border=_BORDER, xmldecl=False, svgns=True)
    return buffer.getvalue().decode()


@functools.lru_cache(maxsize=1024)
def qr_data_url(payload: str) -> str:
    """The PNG as a data: URL, for an <img src> or a JSON field (like Efí's `imagemQrcode`).

    Drawing it costs about 14 ms of CPU, and a charge's is read again and again (`PixCharge.qr_code`: the
    `payment.intent.created` event, each `GET /rides/{id}/payment` of a passenger's app waiting to pay), so
    each process keeps the last 1 024 it drew (a few MB): the same payload always draws the same image."""
    return "data:image/png;base64," + base64.b64encode(qr_png(payload)).decode()
