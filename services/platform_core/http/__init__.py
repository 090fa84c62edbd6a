"""The HTTP edge shared by every service's FastAPI app: one error format, one way to fail."""
