"""Deposits by Pix: a dynamic charge the customer pays from any bank, credited once when it settles."""
