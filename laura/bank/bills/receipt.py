"""The payment receipt (comprovante) as a one-page PDF."""

from __future__ import annotations

from fpdf import FPDF

from laura.bank.bills.models import BillPayment
from laura.bank.transfers.calendar import BRASILIA
from laura.core.money import from_cents


def receipt_pdf(payment: BillPayment, payer_name: str) -> bytes:
    """Payer, slip line, recipient, amount, dates and the authentication (receipt) code."""
    pdf = FPDF(format="A4")
    pdf.add_page()
    pdf.set_font("Helvetica", "B", 14)
    pdf.cell(0, 10, "Laura - Comprovante de pagamento de boleto", new_x="LMARGIN", new_y="NEXT")
    pdf.set_font("Helvetica", size=10)
    paid = payment.paid_at.astimezone(BRASILIA).strftime("%d/%m/%Y %H:%M:%S") if payment.paid_at else "-"
    rows = [
        ("Pagador", payer_name),
        ("Beneficiario", payment.recipient or "-"),
        ("Linha digitavel", payment.digitable_line),
        ("Valor", f"R$ {from_cents(payment.amount_cents):.2f}"),
        ("Vencimento", payment.due_date.strftime("%d/%m/%Y") if payment.due_date else "-"),
        ("Data do pagamento", payment.payment_date.strftime("%d/%m/%Y")),
        ("Pago em (Brasilia)", paid),
        ("Situacao", payment.status),
        ("Autenticacao", payment.receipt),
        ("Id", str(payment.id)),
    ]
    for label, value in rows:
        pdf.set_font("Helvetica", "B", 9)
        pdf.cell(40, 7, label)
        pdf.set_font("Helvetica", size=9)
        pdf.multi_cell(
            0, 7, value.encode("latin-1", "replace").decode("latin-1"), new_x="LMARGIN", new_y="NEXT"
        )
    return bytes(pdf.output())
