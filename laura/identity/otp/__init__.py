"""One-time codes that confirm a sensitive action (revealing a card's number): a TOTP from the user's
authenticator app, or, for a user without one, a 6-digit code sent as a `security.otp` event."""
