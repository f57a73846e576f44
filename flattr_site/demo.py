"""Demo people shared by every app's demo data (see seed_demo)."""

DEMO_PASSWORD = "flattr-demo"

DEMO_USERS = [
    # (key, email, username, display name, is_staff)
    ("admin", "admin@example.com", "admin", "Admin", True),
    ("creator1", "claire@example.com", "claire", "Claire Dubois", False),
    ("creator2", "david@example.com", "david", "David Martin", False),
    ("supporter1", "sophie@example.com", "sophie", "Sophie Bernard", False),
    ("supporter2", "marc@example.com", "marc", "Marc Petit", False),
]
