"""Output with rich: results on stdout, errors and progress on stderr.

Rich honours NO_COLOR (and FORCE_COLOR, TERM=dumb) by itself. `quiet` silences everything but
errors. Lines never wrap (soft_wrap), so an error stays one line however narrow the terminal.
"""

from __future__ import annotations

from collections.abc import Iterable

from rich.console import Console
from rich.table import Table
from rich.text import Text


class Output:
    def __init__(self, *, quiet: bool = False) -> None:
        self.quiet = quiet
        # file=None: rich writes to whatever sys.stdout/sys.stderr are at print time.
        self.out = Console(highlight=False, soft_wrap=True)
        self.err = Console(stderr=True, highlight=False, soft_wrap=True)

    def result(self, message: str, style: str | None = None) -> None:
        """A result line on stdout (suppressed by --quiet)."""
        if not self.quiet:
            self.out.print(Text(message, style=style or ""))

    def progress(self, message: str) -> None:
        """A progress note on stderr (suppressed by --quiet)."""
        if not self.quiet:
            self.err.print(Text(message, style="dim"))

    def error(self, message: str) -> None:
        """`error: <message>` on stderr, always one line."""
        line = Text("error: ", style="bold red")
        line.append(" ".join(message.split()))
        self.err.print(line)

    # The wizard's headings and summary are part of the conversation: --quiet keeps them.
    def heading(self, title: str) -> None:
        self.out.print()
        self.out.print(Text(title, style="bold"))

    def table(self, rows: Iterable[tuple[str, str]]) -> None:
        table = Table(show_header=False, box=None)
        table.add_column(style="bold")
        table.add_column()
        for key, value in rows:
            table.add_row(Text(key), Text(value))
        self.out.print(table)


def error(message: str) -> None:
    """Print an error without an Output at hand (the CLI's last-resort boundary)."""
    Output().error(message)
