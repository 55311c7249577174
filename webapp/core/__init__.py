"""The shared bottom of the webapp: what every app may use and nothing app-specific.

Errors with a code and an HTTP status, JSON API plumbing, stored-file helpers, the client's
address, one cache-backed rate limiter, lease claims and after-commit task sending. Imports
only Django and the Django-free libraries under workers/ (held by the import-linter contract
in pyproject.toml).
"""
