"""Output with rich: results on stdout, errors and progress on stderr.

Rich honours NO_COLOR (and FORCE_COLOR, TERM=dumb) by itself. `quiet` silences everything but
errors. Lines never wrap (soft_wrap), so an error stays one line however narrow the terminal.
"""

from __future__ import annotations

import json
import sys
from collections.abc import Iterable, Sequence

from rich import box
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

    def grid(self, headers: Sequence[str], rows: Iterable[Sequence[str]]) -> None:
        """A table with a header row (results: suppressed by --quiet)."""
        if self.quiet:
            return
        table = Table(*headers, box=box.SIMPLE_HEAD, show_edge=False)
        for row in rows:
            table.add_row(*(Text(cell) for cell in row))
        self.out.print(table)

    def json(self, data: object) -> None:
        """Machine-readable output: plain JSON on stdout, never styled or wrapped."""
        sys.stdout.write(json.dumps(data, indent=2, default=str) + "\n")

    def raw(self, text: str) -> None:
        """Text exactly as given (Markdown reports) on stdout."""
        sys.stdout.write(text if text.endswith("\n") else text + "\n")
