"""spaces"""

from spaces._errors import SpaceError

__all__ = ["SpaceError"]
