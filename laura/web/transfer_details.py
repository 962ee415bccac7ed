"""The receipt's lines that only a Pix or a TED has: the key and end-to-end id of a Pix; the bank, branch,
account, fee and estimated delivery of a TED. Each line is (message id of its label, value, kind), the
kind saying how the template shows the value (text, code, money, moment)."""

from __future__ import annotations

from typing import Any

from laura.bank.participants import find_by_compe
from laura.bank.transfers.models import Transfer
from laura.web.i18n import N_


def receipt_lines(transfer: Transfer) -> list[tuple[str, Any, str]]:
    if transfer.type == "PIX":
        lines: list[tuple[str, Any, str]] = [(N_("Pix key"), transfer.pix_key, "code")]
        if transfer.e2e_id:
            lines.append((N_("End-to-end id"), transfer.e2e_id, "code"))
        return lines
    if transfer.type == "TED":
        bank = find_by_compe(transfer.bank_code or "")
        return [
            (N_("Bank"), f"{transfer.bank_code} · {bank.name}" if bank else transfer.bank_code, "text"),
            (N_("Branch and account"), f"{transfer.agency} · {transfer.account}", "text"),
            (N_("Fee"), transfer.fee, "money"),
            (N_("Estimated delivery"), transfer.estimated_delivery, "moment"),
        ]
    return []
