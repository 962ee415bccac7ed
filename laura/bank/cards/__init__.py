"""Cards: issuing, listing, revealing and blocking them, and answering the card network's authorizations."""
