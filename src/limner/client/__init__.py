"""Python SDK over the REST API."""

from limner.client.http import ApiError, Client, ConflictError

__all__ = ["ApiError", "Client", "ConflictError"]
