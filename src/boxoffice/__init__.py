"""boxoffice: the commerce core of event ticketing."""

__version__ = "0.1.0"
