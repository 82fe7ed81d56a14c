"""Writing a report: one self-contained HTML file, and its figures as PNG files beside it.

The HTML file embeds the PNG figures as data URIs; the same PNGs go to a folder beside it (``<name>_figures/``).
Both appear whole or not at all.
"""

from __future__ import annotations

import base64
import html
import io
import os
import shutil
from dataclasses import dataclass, field
from pathlib import Path

from matplotlib.figure import Figure

from seldkit.errors import InputError
from seldkit.io.atomic import (
    check_output_file,
    current_umask,
    make_staging_folder,
    temporary_path,
    write_new_file,
)

PNG_DPI = 110


@dataclass(frozen=True)
class FigureItem:
    """A figure of a report with its caption; ``name`` is the stem of its PNG file."""

    name: str  # file stem of the PNG
    caption: str
    figure: Figure


@dataclass(frozen=True)
class Table:
    """A table of text cells: the header row and the rows under it."""

    header: tuple[str, ...]
    rows: tuple[tuple[str, ...], ...]


@dataclass(frozen=True)
class Note:
    """A paragraph the command also prints (something left out of the report, and why)."""

    text: str


@dataclass(frozen=True)
class Section:
    """A titled part of a report: figures, tables, notes and paragraphs (a str), in order."""

    title: str
    items: list[FigureItem | Table | Note | str] = field(default_factory=list)  # a str is a paragraph


@dataclass(frozen=True)
class Report:
    """A report: its title, the lines saying what it reports on (inputs, protocol), and its sections."""

    title: str
    lines: tuple[str, ...]  # what was reported on: inputs, protocol
    sections: list[Section]

    @property
    def figures(self) -> list[FigureItem]:
        """Every figure of the report, in order."""
        return [item for section in self.sections for item in section.items if isinstance(item, FigureItem)]

    @property
    def notes(self) -> list[str]:
        """The text of every note of the report, in order."""
        return [item.text for section in self.sections for item in section.items if isinstance(item, Note)]


def png_bytes(figure: Figure) -> bytes:
    """The figure as PNG; no software/date metadata, so the same figure gives the same bytes."""
    buffer = io.BytesIO()
    figure.savefig(buffer, format="png", dpi=PNG_DPI, metadata={"Software": None})
    return buffer.getvalue()


def figures_folder(out: Path) -> Path:
    """The folder beside the report file ``out`` that holds its PNG figures: ``<stem>_figures``."""
    return out.with_name(f"{out.stem}_figures")


def check_report_paths(out: Path) -> None:
    """Refuse report paths whose writing would lose a file of the user's, before any work.

    Checked: ``out`` can take the HTML file, and the figures folder beside it is absent or one that seldkit wrote
    (only PNG files), so replacing it loses nothing of the user's.
    """
    check_output_file(out, what="report file")
    folder = figures_folder(out)
    if not folder.exists() and not folder.is_symlink():
        return
    if folder.is_symlink() or not folder.is_dir():
        raise InputError(
            "the figures folder of this report exists and is not a folder seldkit wrote; choose another --out",
            file=str(folder),
        )
    try:
        foreign = [
            entry.name
            for entry in folder.iterdir()
            if entry.suffix != ".png" or not entry.is_file() or entry.is_symlink()
        ]
    except OSError as error:
        raise InputError(f"cannot read the figures folder: {error.strerror or error}", file=str(folder)) from None
    if foreign:
        raise InputError(
            f"the figures folder holds files seldkit did not write ({sorted(foreign)[0]}, ...); "
            "choose another --out or move them",
            file=str(folder),
        )


def write_report(report: Report, out: Path) -> list[Path]:
    """Write ``out`` (HTML) and its figures folder.

    Returns the PNG paths. Both are replaced together: on any failure the previous report and figures stay as they were.
    """
    check_report_paths(out)
    images = {item.name: png_bytes(item.figure) for item in report.figures}
    document = render(report, images)
    folder = figures_folder(out)
    staging = make_staging_folder(folder)
    html_temporary = temporary_path(out)
    previous: Path | None = None
    try:
        for name, data in images.items():
            write_new_file(staging / f"{name}.png", data)
        write_new_file(html_temporary, document.encode("utf-8"))
        os.chmod(html_temporary, 0o666 & ~current_umask())
        if folder.exists():
            previous = temporary_path(folder)
            os.replace(folder, previous)
        os.replace(staging, folder)
        try:
            os.replace(html_temporary, out)
        except BaseException:
            shutil.rmtree(folder, ignore_errors=True)
            raise
    except BaseException as error:
        if previous is not None and not folder.exists():
            os.replace(previous, folder)
            previous = None
        shutil.rmtree(staging, ignore_errors=True)
        html_temporary.unlink(missing_ok=True)
        if isinstance(error, OSError):
            raise InputError(f"cannot write the report: {error.strerror or error}", file=str(out)) from None
        raise
    if previous is not None:
        shutil.rmtree(previous, ignore_errors=True)
    return [folder / f"{name}.png" for name in images]


def render(report: Report, images: dict[str, bytes]) -> str:
    """The report as one HTML document, the PNG ``images`` (by figure name) embedded as data URIs."""
    parts = [
        "<!DOCTYPE html>",
        '<html lang="en"><head><meta charset="utf-8">',
        f"<title>{html.escape(report.title)}</title>",
        f"<style>{_STYLE}</style></head><body>",
        f"<h1>{html.escape(report.title)}</h1>",
        '<ul class="inputs">' + "".join(f"<li>{html.escape(line)}</li>" for line in report.lines) + "</ul>",
    ]
    for section in report.sections:
        parts.append(f"<section><h2>{html.escape(section.title)}</h2>")
        for item in section.items:
            if isinstance(item, FigureItem):
                encoded = base64.b64encode(images[item.name]).decode("ascii")
                parts.append(
                    f'<figure><img src="data:image/png;base64,{encoded}" alt="{html.escape(item.caption)}">'
                    f"<figcaption>{html.escape(item.caption)}</figcaption></figure>"
                )
            elif isinstance(item, Table):
                header = "".join(f"<th>{html.escape(cell)}</th>" for cell in item.header)
                rows = "".join(
                    "<tr>" + "".join(f"<td>{html.escape(cell)}</td>" for cell in row) + "</tr>" for row in item.rows
                )
                parts.append(f"<table><thead><tr>{header}</tr></thead><tbody>{rows}</tbody></table>")
            else:
                parts.append(f"<p>{html.escape(item.text if isinstance(item, Note) else item)}</p>")
        parts.append("</section>")
    parts.append("</body></html>")
    return "\n".join(parts) + "\n"


_STYLE = (
    "body{font-family:system-ui,sans-serif;max-width:1100px;margin:2em auto;padding:0 1em;color:#222}"
    "h1{font-size:1.5em}h2{font-size:1.2em;border-bottom:1px solid #ccc;padding-bottom:.2em;margin-top:2em}"
    "ul.inputs{color:#555;font-size:.9em}table{border-collapse:collapse;margin:1em 0;font-size:.9em}"
    "th,td{border:1px solid #ccc;padding:.25em .6em;text-align:right}th:first-child,td:first-child{text-align:left}"
    "figure{margin:1em 0}img{max-width:100%}figcaption{color:#555;font-size:.85em}"
)
