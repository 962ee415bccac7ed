"""Ride payments over Pix: the fare asked for at completion, paid by a Pix charge, split once it settles."""
