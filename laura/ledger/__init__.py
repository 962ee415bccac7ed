"""Double-entry ledger (modeled on TigerBeetle): accounts with balance-limit flags, balanced transactions,
pending holds that post or void, reversals, and statements. Use it through `laura.ledger.service`."""
