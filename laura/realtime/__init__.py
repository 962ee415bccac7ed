"""Realtime: the WebSocket endpoint that streams each user the domain events addressed to them."""
