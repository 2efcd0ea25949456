"""tasks"""

from tasks._errors import TaskError

__all__ = ["TaskError"]
