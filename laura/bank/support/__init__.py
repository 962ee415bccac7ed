"""Support tickets: the customer's side, the staff desk, SLA deadlines and the auto-close."""
