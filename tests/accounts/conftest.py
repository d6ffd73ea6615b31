from api.conftest import api, app, world

__all__ = ["api", "app", "world"]
