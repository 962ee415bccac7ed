from __future__ import annotations

import base64
import io
import xml.etree.ElementTree as ET
from decimal import Decimal

import pytest
import zxingcpp
from PIL import Image

from laura.pix.brcode import build_brcode
from laura.pix.qr import qr_data_url, qr_png, qr_svg

PAYLOADS = [
    build_brcode(
        key="123e4567-e12b-12d1-a456-426655440000",
        merchant_name="Laura Instituição de Pagamento",
        merchant_city="São Paulo",
        amount=Decimal("150.00"),
        description="Corrida 42",
        txid="RIDE42",
    ),
    build_brcode(
        location="pix.example.com/qr/v2/9d36b84fc70b478fb95c12729b90ca25",
        merchant_name="Laura",
        merchant_city="Brasilia",
        point_of_initiation="12",
    ),
]


def decode(png: bytes) -> zxingcpp.Barcode:
    image = Image.open(io.BytesIO(png))
    assert image.format == "PNG"
    (barcode,) = zxingcpp.read_barcodes(image)
    return barcode


@pytest.mark.parametrize("payload", PAYLOADS)
def test_png_decodes_back_to_the_payload(payload: str) -> None:
    barcode = decode(qr_png(payload))
    assert barcode.format == zxingcpp.BarcodeFormat.QRCode
    assert barcode.text == payload
    assert barcode.ec_level == "M"


def test_data_url_carries_the_same_png() -> None:
    url = qr_data_url(PAYLOADS[0])
    prefix = "data:image/png;base64,"
    assert url.startswith(prefix)
    png = base64.b64decode(url[len(prefix) :], validate=True)
    assert png == qr_png(PAYLOADS[0])
    assert decode(png).text == PAYLOADS[0]


def test_svg_is_inline_ready_markup() -> None:
    svg = qr_svg(PAYLOADS[0])
    assert svg.startswith("<svg")
    root = ET.fromstring(svg)
    assert root.tag == "{http://www.w3.org/2000/svg}svg"
    assert root.get("width") == str(Image.open(io.BytesIO(qr_png(PAYLOADS[0]))).width)
