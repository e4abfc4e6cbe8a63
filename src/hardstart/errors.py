"""The error tree. Every failure the user can cause or meet is one of these.

The CLI prints `error: <message>` on one line and exits with `exit_code`; no traceback.
"""

from __future__ import annotations

# Exit codes, documented in `hardstart --help`.
EXIT_OK = 0
EXIT_UNEXPECTED = 1
EXIT_USAGE = 2
EXIT_CONFLICTS = 3
EXIT_UNTRUSTED = 4
EXIT_OUTDATED = 5
EXIT_INTERRUPTED = 130


class HardstartError(Exception):
    """A failure with a message meant for the user and the exit code that reports it."""

    exit_code: int = EXIT_UNEXPECTED

    def __init__(self, message: str, exit_code: int | None = None) -> None:
        # One line: messages are printed as `error: <message>`.
        self.message = " ".join(message.split())
        if exit_code is not None:
            self.exit_code = exit_code
        super().__init__(self.message)


class UsageError(HardstartError):
    """The command line or a destination is unusable (exit 2)."""

    exit_code = EXIT_USAGE


class BadAnswer(UsageError):
    """An answer to a template question is missing or breaks the question's rule (exit 2)."""

    def __init__(self, question: str, problem: str) -> None:
        self.question = question
        self.problem = " ".join(problem.split())
        super().__init__(f"{question}: {self.problem}")


class Aborted(HardstartError):
    """The user declined at the confirmation step (exit 1; nothing was written)."""


class Conflicts(HardstartError):
    """An update left conflicts to resolve (exit 3)."""

    exit_code = EXIT_CONFLICTS


class Untrusted(HardstartError):
    """The template uses features that need trust (exit 4)."""

    exit_code = EXIT_UNTRUSTED


class Outdated(HardstartError):
    """The project is behind its template or has drifted from it (exit 5)."""

    exit_code = EXIT_OUTDATED


class Interrupted(HardstartError):
    """Ctrl-C or a termination signal (exit 130)."""

    exit_code = EXIT_INTERRUPTED

    def __init__(self, message: str = "interrupted") -> None:
        super().__init__(message)
