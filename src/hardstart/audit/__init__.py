"""`hardstart audit`: check any repository against the hardening baseline, item by item."""
