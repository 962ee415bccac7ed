"""Users, roles and sessions: register, login, refresh rotation, logout, and the dependencies routes use
(`CurrentUser`, `require_role`)."""
