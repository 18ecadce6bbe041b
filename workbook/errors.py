"""Errors the faces (CLI, TUI) turn into a clear message instead of a traceback."""


class WorkbookError(Exception):
    """A problem the user can fix: unknown lesson, missing workspace, bad course file."""


class CourseFormatError(WorkbookError):
    """The course folder does not follow the documented format."""
