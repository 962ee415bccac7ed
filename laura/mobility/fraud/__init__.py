"""Anti-fraud rules that run where the event happens (geofence, impossible movement, cancellation abuse)."""
