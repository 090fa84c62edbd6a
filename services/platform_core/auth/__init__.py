"""Who is calling: API keys (stored hashed) mapped to principals — departments, partners,
operators — and the checks every route uses. 401 means "we do not know you", 403 means "we know
you and you may not do this"; both bodies say why."""

from services.platform_core.auth.principals import Principal, PrincipalKind

__all__ = ["Principal", "PrincipalKind"]
