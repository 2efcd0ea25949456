"""models"""

from models._errors import ConfigError

__all__ = ["ConfigError"]
