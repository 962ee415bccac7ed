"""The transfer receipt (comprovante) as a one-page PDF."""

from __future__ import annotations

import hashlib
from datetime import datetime

from fpdf import FPDF

from laura.bank.transfers.calendar import BRASILIA
from laura.bank.transfers.models import Transfer
from laura.core.money import from_cents

_KINDS = {"PIX": "Pix", "TED": "TED", "P2P": "Transferencia entre contas Laura"}


def authentication_code(transfer: Transfer) -> str:
    """A code that ties the receipt to the transfer and its ledger movement (24 hex characters)."""
    material = f"{transfer.id}:{transfer.ledger_transaction_id or transfer.hold_id}:{transfer.e2e_id or ''}"
    return hashlib.sha256(material.encode()).hexdigest()[:24].upper()


def _when(value: datetime | None) -> str:
    return value.astimezone(BRASILIA).strftime("%d/%m/%Y %H:%M:%S") if value else "-"


def _recipient(transfer: Transfer, recipient_name: str | None) -> list[tuple[str, str]]:
    rows = [("Recebedor", recipient_name or transfer.recipient_name or "-")]
    if transfer.type == "PIX":
        rows.append(("Chave Pix", transfer.pix_key or "-"))
    if transfer.type == "TED":
        rows += [
            ("Banco", transfer.bank_code or "-"),
            ("Agencia / Conta", f"{transfer.agency} / {transfer.account}"),
            ("Documento", transfer.recipient_document or "-"),
        ]
    return rows


def receipt_pdf(transfer: Transfer, payer_name: str, recipient_name: str | None) -> bytes:
    """Payer, recipient, amount (and fee), times, status, e2eId and the authentication code."""
    pdf = FPDF(format="A4")
    pdf.add_page()
    pdf.set_font("Helvetica", "B", 14)
    title = f"Laura - Comprovante de {_KINDS.get(transfer.type, transfer.type)}"
    pdf.cell(0, 10, title, new_x="LMARGIN", new_y="NEXT")
    rows = [
        ("Pagador", payer_name),
        *_recipient(transfer, recipient_name),
        ("Valor", f"R$ {from_cents(transfer.amount_cents):.2f}"),
        ("Tarifa", f"R$ {from_cents(transfer.fee_cents):.2f}"),
        ("Descricao", transfer.description or "-"),
        ("Criada em (Brasilia)", _when(transfer.created_at)),
        ("Concluida em (Brasilia)", _when(transfer.completed_at)),
        ("Situacao", transfer.status),
        ("ID fim a fim (e2eId)", transfer.e2e_id or "-"),
        ("Autenticacao", authentication_code(transfer)),
        ("Id", str(transfer.id)),
    ]
    for label, value in rows:
        pdf.set_font("Helvetica", "B", 9)
        pdf.cell(45, 7, label)
        pdf.set_font("Helvetica", size=9)
        pdf.multi_cell(
            0, 7, str(value).encode("latin-1", "replace").decode("latin-1"), new_x="LMARGIN", new_y="NEXT"
        )
    return bytes(pdf.output())
