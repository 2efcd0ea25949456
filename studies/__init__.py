"""studies"""

from studies._errors import StudyError

__all__ = ["StudyError"]
