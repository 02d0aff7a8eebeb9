"""One-line ConfigErrors about data, and the short forms of the names they quote."""

import re
from pathlib import Path

from sweeper.config.checks import ConfigError

# A quoted name or value longer than this is cut, so that a message stays one short
# line even when a CSV header holds a paragraph.
SHOWN_CHARS = 32
# A list of names (a file's columns, an archive's arrays) stops after this many
# characters or names; the rest are counted.
LISTED_CHARS, LISTED_NAMES = 100, 10


def file_subject(path: str | Path) -> str:
    """How every message about a data file starts."""
    return f"The file for `task.path` ({str(path)!r})"


def one_line(text: str) -> ConfigError:
    """A ConfigError on one line: pandas' and the OS's messages may hold newlines."""
    return ConfigError(re.sub(r"\s*[\r\n]+\s*", " ", text).strip())


def file_error(path: str | Path, problem: str) -> ConfigError:
    """A ConfigError that names the file, then says what is wrong with it."""
    return one_line(f"{file_subject(path)} {problem}")


def unreadable(path: str | Path, error: OSError) -> ConfigError:
    """The file exists but the OS refused or failed to read it."""
    return file_error(
        path, f"cannot be read ({error.strerror}): check its permissions and its disk"
    )


def shown(value) -> str:
    """`value`'s repr, cut to SHOWN_CHARS."""
    text = repr(value)
    return text if len(text) <= SHOWN_CHARS else text[: SHOWN_CHARS - 3] + "..."


def listed(names) -> str:
    """Names as "'a', 'b' and 5 more", short enough for a one-line message."""
    names = list(names)
    parts, length = [], 0
    for name in names[:LISTED_NAMES]:
        text = shown(name)
        if parts and length + len(text) > LISTED_CHARS:
            break
        parts.append(text)
        length += len(text) + 2
    rest = len(names) - len(parts)
    return ", ".join(parts) + (f" and {rest} more" if rest else "") or "none"
