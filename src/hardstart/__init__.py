"""hardstart: generate a hardened Express 5 + TypeScript REST API."""

__version__ = "0.4.0"
