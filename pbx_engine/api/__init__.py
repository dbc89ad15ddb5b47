"""The HTTP side of cardengine: the balance API (/v1), /health and /metrics."""
