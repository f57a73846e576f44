"""Demo people shared by every app's demo data (see seed_demo)."""

DEMO_PASSWORD = "flattr-demo"

# Demo people joined well before the demo's months: accounts created in the
# month they flattred in are what the admin's "Suspicious patterns" looks for.
DEMO_JOINED_DAYS_AGO = 400

DEMO_USERS = [
    # (key, email, username, display name, is_staff, monthly budget in cents)
    ("admin", "admin@example.com", "admin", "Admin", True, 200),
    ("creator1", "claire@example.com", "claire", "Claire Dubois", False, 200),
    ("creator2", "david@example.com", "david", "David Martin", False, 200),
    ("supporter1", "sophie@example.com", "sophie", "Sophie Bernard", False, 1500),
    ("supporter2", "marc@example.com", "marc", "Marc Petit", False, 1000),
    # A generous patron: their budget gives Claire more than the withdrawal
    # review threshold, so a withdrawal can be tried through review.
    ("patron", "patron@example.com", "patron", "Paula Patron", False, 25_000),
]
