"""The card network's side of a card (issue 14): the acquirer asks "approve or decline?", the issuer answers
and holds the money on the ledger; capture, void and refund follow."""
