"""Pix: keys, BR Code payloads, QR codes, the PSP client and the PSP sandbox."""
