"""The report as Markdown and as self-contained HTML, side by side, all escaped."""

import base64
import html
import re
from pathlib import Path

STYLE = """body { font-family: sans-serif; max-width: 1100px; margin: 2em auto; }
table { border-collapse: collapse; } td, th { border: 1px solid #ccc; padding: 3px; }
th { background: #eee; } b { color: crimson; } img { max-width: 100%; }
figure { margin: 1.5em 0; } figcaption { color: #444; }"""


class Document:
    """The same report as Markdown and as HTML, written side by side.

    Text is a string or a list of pieces: strings, ("b", text), ("code", text) or
    ("a", text, href). Every piece is escaped on the way out, so no setting value or
    error text reaches the HTML raw.
    """

    def __init__(self, folder: Path):
        self.folder, self.md, self.html = folder, [], []

    def heading(self, level: int, text) -> None:
        self.md.append("#" * level + " " + _md(text))
        self.html.append(f"<h{level}>{_html(text)}</h{level}>")

    def para(self, text) -> None:
        self.md.append(_md(text))
        self.html.append(f"<p>{_html(text)}</p>")

    def items(self, lines: list) -> None:
        self.md.append("\n".join(f"- {_md(line)}" for line in lines))
        items = "".join(f"<li>{_html(line)}</li>" for line in lines)
        self.html.append(f"<ul>{items}</ul>")

    def table(self, header: list, rows: list) -> None:
        md_row = "| {} |".format
        self.md.append(
            "\n".join(
                [
                    md_row(" | ".join(_md(h, cell=True) for h in header)),
                    "|" + " --- |" * len(header),
                ]
                + [md_row(" | ".join(_md(c, cell=True) for c in row)) for row in rows]
            )
        )
        head = "".join(f"<th>{_html(h)}</th>" for h in header)
        body = "".join(
            "<tr>" + "".join(f"<td>{_html(c)}</td>" for c in row) + "</tr>"
            for row in rows
        )
        self.html.append(f"<table><tr>{head}</tr>{body}</table>")

    def image(self, name: str, caption: str) -> None:
        """A PNG of the folder, read when the page is made (it may be drawn later)."""
        self.md.append(f"![{name}]({name})\n\n{_md(caption)}")
        self.html.append((name, caption))

    def _figure(self, name: str, caption: str) -> str:
        data = base64.b64encode((self.folder / name).read_bytes()).decode()
        image = f'src="data:image/png;base64,{data}" alt="{html.escape(name)}"'
        return (
            f"<figure><img {image}><figcaption>{_html(caption)}</figcaption></figure>"
        )

    def markdown(self) -> str:
        return "\n\n".join(self.md) + "\n"

    def page(self, title: str) -> str:
        return (
            f'<!doctype html>\n<html lang="en"><head><meta charset="utf-8">'
            f"<title>{html.escape(title)}</title>\n<style>\n{STYLE}\n</style></head>\n"
            "<body>\n"
            + "\n".join(
                p if isinstance(p, str) else self._figure(*p) for p in self.html
            )
            + "\n</body></html>\n"
        )


def _pieces(text) -> list:
    return (
        [("", text)]
        if isinstance(text, str)
        else [("", p) if isinstance(p, str) else p for p in text]
    )


# Markdown's inline markup characters; in text they are backslash-escaped, so a value
# can make no link, image, emphasis, heading or code span of its own. (A table cell's
# `|` is escaped in cells, code spans included, as GFM tables require.)
MARKUP = re.compile(r"([\\`*_\[\]#~!])")


def _md(text, cell: bool = False) -> str:
    out = ""
    for kind, value, *href in _pieces(text):
        # One line: a blank line inside a value would end the paragraph or code span
        # and let what follows be read as Markdown (raw HTML included).
        value = re.sub(r"\s+", " ", str(value))
        if kind == "code":  # a code span shows its text literally, HTML and all
            value = value.replace("`", "'")
        else:
            value = MARKUP.sub(r"\\\1", html.escape(value, quote=False))
        value = value.replace("|", r"\|") if cell else value
        out += {
            "b": f"**{value}**",
            "code": f"`{value}`",
            "a": f"[{value}]({''.join(href)})",
        }.get(kind, value)
    return out


def _html(text) -> str:
    out = ""
    for kind, value, *href in _pieces(text):
        value = html.escape(str(value))
        if kind == "a":
            out += f'<a href="{html.escape("".join(href))}">{value}</a>'
        else:
            out += f"<{kind}>{value}</{kind}>" if kind else value
    return out
