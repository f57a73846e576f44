from typing import Any
from urllib.parse import quote, urlencode


def connection_url(s: dict[str, Any]) -> str:
    """A postgres:// URL of a Django connection's settings (its database as
    in use: the test database under tests)."""
    host = (s.get("OPTIONS") or {}).get("host") or s.get("HOST") or "127.0.0.1"
    query = {"host": host} if str(host).startswith("/") else {}
    netloc = "" if query else f"{host}:{s.get('PORT') or 5432}"
    if query and s.get("PORT"):
        query["port"] = str(s["PORT"])
    user = quote(s.get("USER") or "postgres")
    auth = f"{user}:{quote(s['PASSWORD'])}@" if s.get("PASSWORD") else f"{user}@"
    return f"postgresql://{auth}{netloc}/{s['NAME']}" + (f"?{urlencode(query)}" if query else "")
