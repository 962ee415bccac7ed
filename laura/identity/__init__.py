"""Users, roles and sessions: register, login, refresh rotation, logout, and the `current_user` dependencies."""
