"""What a generation wrote to one file: the lines added, how many were removed, and where.

An :class:`Edit` comes either from the file's text before and after
(:func:`edit_from_texts`) or from a unified diff, as ``git diff`` prints it
(:func:`edits_from_diff`). Both count lines the way git does: a line is what
ends with ``\\n`` (a last line without one differs from the same line with
one), and a ``\\r`` before the ``\\n`` belongs to the line when comparing but
is dropped from the added text.

Ranges are 1-based, inclusive, in the NEW text: one per block of consecutive
added lines. Removed lines only count: they are gone from the new text.
"""

from __future__ import annotations

import difflib
import os
import posixpath
import re
from collections.abc import Iterator
from dataclasses import dataclass, field

from aitrail.sdk.fingerprint import fingerprints, to_signed
from aitrail.sdk.vocabulary import (
    CODE_FILE_PATH,
    LANGUAGE,
    LINE_END,
    LINE_FINGERPRINTS,
    LINE_START,
    LINES_ADDED,
    LINES_REMOVED,
)


@dataclass(frozen=True)
class Edit:
    """The change a generation made to one file."""

    path: str
    """The file, as given (after a rename: its new name; when deleted: its old name)."""
    added: tuple[str, ...]
    """Lines added, in order, without line terminators."""
    removed: int
    """How many lines were removed."""
    ranges: tuple[tuple[int, int], ...]
    """(first, last) line numbers, 1-based inclusive, of each block of added lines in the new text."""
    language: str = field(default="")
    """Programming language of the file ("" when unknown), see :func:`language_of`."""

    @property
    def line_start(self) -> int:
        """First line written (0 when nothing was added)."""
        return min((start for start, _ in self.ranges), default=0)

    @property
    def line_end(self) -> int:
        """Last line written (0 when nothing was added)."""
        return max((end for _, end in self.ranges), default=0)

    @property
    def fingerprints(self) -> tuple[int, ...]:
        """Unsigned fingerprints of the non-trivial added lines (see :mod:`aitrail.sdk.fingerprint`)."""
        return tuple(fingerprints(self.added))


# --- from texts ----------------------------------------------------------------


def _split_lines(text: str | None) -> list[str]:
    """Lines as git sees them: each with its ``\\n``, the last one without if the text has no final newline."""
    if not text:
        return []
    parts = text.split("\n")
    lines = [part + "\n" for part in parts[:-1]]
    if parts[-1]:
        lines.append(parts[-1])
    return lines


def _content(line: str) -> str:
    """A line without its terminator (``\\n``, ``\\r\\n``)."""
    if line.endswith("\n"):
        line = line[:-1]
    return line[:-1] if line.endswith("\r") else line


def edit_from_texts(path: str, old: str | None, new: str | None) -> Edit:
    """The edit that turns ``old`` into ``new`` (None or "" for a file that did not / no longer exists)."""
    before, after = _split_lines(old), _split_lines(new)
    added: list[str] = []
    ranges: list[tuple[int, int]] = []
    removed = 0
    matcher = difflib.SequenceMatcher(None, before, after, autojunk=False)
    for tag, i1, i2, j1, j2 in matcher.get_opcodes():
        if tag in ("replace", "delete"):
            removed += i2 - i1
        if tag in ("replace", "insert"):
            added.extend(_content(line) for line in after[j1:j2])
            _extend(ranges, j1 + 1, j2)
    return Edit(path=path, added=tuple(added), removed=removed, ranges=tuple(ranges), language=language_of(path))


def _extend(ranges: list[tuple[int, int]], first: int, last: int) -> None:
    """Add lines first..last, merging with the previous block when adjacent."""
    if ranges and ranges[-1][0] <= first <= ranges[-1][1] + 1:
        ranges[-1] = (ranges[-1][0], max(ranges[-1][1], last))
    else:
        ranges.append((first, last))


# --- from a unified diff ---------------------------------------------------------

_HUNK = re.compile(r"^@@ -(\d+)(?:,(\d+))? \+(\d+)(?:,(\d+))? @@")
_DIFF_GIT = re.compile(r"^diff --git (.+)$")
_C_ESCAPES = {"a": 7, "b": 8, "t": 9, "n": 10, "v": 11, "f": 12, "r": 13, '"': 34, "\\": 92}


@dataclass
class _FileDiff:
    old: str | None = None
    new: str | None = None
    old_prefix: str = "a/"
    new_prefix: str = "b/"
    added: list[str] = field(default_factory=list)
    removed: int = 0
    ranges: list[tuple[int, int]] = field(default_factory=list)
    deleted: bool = False

    def edit(self) -> Edit:
        path = (self.old if self.deleted else self.new) or self.new or self.old or ""
        return Edit(
            path=path,
            added=tuple(self.added),
            removed=self.removed,
            ranges=tuple(self.ranges),
            language=language_of(path),
        )


def _unquote(name: str) -> str:
    """A path as git prints it: C-quoted (``"a/t\\303\\251st"``) when it has unusual characters."""
    if len(name) < 2 or not (name.startswith('"') and name.endswith('"')):
        return name
    body, out, i = name[1:-1], bytearray(), 0
    while i < len(body):
        ch = body[i]
        if ch == "\\" and i + 1 < len(body):
            nxt = body[i + 1]
            if re.match(r"[0-7]{3}", body[i + 1 : i + 4]):
                out.append(int(body[i + 1 : i + 4], 8) & 0xFF)
                i += 4
                continue
            out.extend(bytes([_C_ESCAPES[nxt]]) if nxt in _C_ESCAPES else ("\\" + nxt).encode())
            i += 2
            continue
        out.extend(ch.encode("utf-8", "surrogateescape"))
        i += 1
    return out.decode("utf-8", "replace")


def _header_path(value: str) -> str | None:
    """The path of a ``---``/``+++`` line, still with its prefix (None for /dev/null)."""
    value = value.rstrip("\r")
    if not value.startswith('"') and "\t" in value:
        value = value.split("\t", 1)[0]  # "--- name<TAB>timestamp" from diff -u, "a/x y<TAB>" from git
    path = _unquote(value)
    return None if path == "/dev/null" else path


def _strip_prefix(path: str | None, prefix: str) -> str | None:
    return path[len(prefix) :] if path is not None and prefix and path.startswith(prefix) else path


def _start_file(rest: str) -> _FileDiff:
    """A file from its ``diff --git <old> <new>`` line: the two names (when they can be told apart) and their prefixes.

    Git writes ``a/`` and ``b/`` (``i/``, ``w/``, ``c/``... with
    ``diff.mnemonicPrefix``, nothing with ``--no-prefix``); when both names
    are the same path, the prefixes are read off the line itself.
    """
    rest = rest.rstrip("\r")
    quoted = r'"(?:[^"\\]|\\.)*"'
    halves: tuple[str, str] | None = None
    if (m := re.fullmatch(rf"({quoted}) ({quoted})", rest)) is not None:
        halves = _unquote(m.group(1)), _unquote(m.group(2))
    elif (m := re.fullmatch(rf"({quoted}) (.+)", rest)) is not None:
        halves = _unquote(m.group(1)), m.group(2)
    elif (m := re.fullmatch(rf"(.+) ({quoted})", rest)) is not None:
        halves = m.group(1), _unquote(m.group(2))
    elif len(rest) % 2 == 1 and rest[len(rest) // 2] == " ":
        halves = rest[: len(rest) // 2], rest[len(rest) // 2 + 1 :]
    found = _FileDiff()
    if halves is None:
        return found
    old, new = halves
    if old == new:  # --no-prefix
        found.old = found.new = old
        found.old_prefix = found.new_prefix = ""
        return found
    # The longest common tail that starts a path in both: "a/src/x.py", "b/src/x.py" -> "src/x.py".
    # (A rename can fool this; its "rename from/to" lines come next and win.)
    common = 0
    while common < min(len(old), len(new)) and old[-1 - common] == new[-1 - common]:
        common += 1
    for start in range(len(old) - common, len(old)):
        new_start = len(new) - (len(old) - start)
        if start > 0 and new_start > 0 and old[start - 1] == "/" and new[new_start - 1] == "/":
            found.old = found.new = old[start:]
            found.old_prefix, found.new_prefix = old[:start], new[:new_start]
            break
    return found


def edits_from_diff(diff: str) -> list[Edit]:
    """One :class:`Edit` per file of a unified diff (``git diff``, ``git show``, ``diff -u``), in order.

    Understands new and deleted files, renames and copies (the edit is on the
    new name), ``/dev/null``, ``\\ No newline at end of file``, hunk headers
    with and without counts, C-quoted paths, ``--no-prefix`` and mnemonic
    prefixes, and CRLF diffs. A file the diff names without hunks (a pure
    rename, a mode change, a binary file, an empty new file) gives an edit
    with nothing added or removed. Text around the diff (a commit message, a
    diffstat) is ignored; combined diffs of merges (``diff --cc``) are not read.
    """
    return list(_parse(diff.split("\n")))


def _parse(lines: list[str]) -> Iterator[Edit]:
    current: _FileDiff | None = None
    i, n = 0, len(lines)
    while i < n:
        line = lines[i].rstrip("\r")
        if (git := _DIFF_GIT.match(line)) is not None:
            if current is not None:
                yield current.edit()
            current = _start_file(git.group(1))
            i += 1
            continue
        if line.startswith("--- ") and i + 1 < n and lines[i + 1].startswith("+++ "):
            if current is None or current.added or current.removed:
                # A plain unified diff (no "diff --git" line): each ---/+++ pair starts a file.
                if current is not None:
                    yield current.edit()
                current = _FileDiff()
            old = _strip_prefix(_header_path(line[4:]), current.old_prefix)
            new = _strip_prefix(_header_path(lines[i + 1][4:]), current.new_prefix)
            current.old = current.old if current.old is not None else old
            current.new = current.new if current.new is not None else new
            current.deleted = current.deleted or new is None
            i += 2
            continue
        if current is None:
            i += 1
            continue
        if (hunk := _HUNK.match(line)) is not None:
            i = _read_hunk(lines, i + 1, hunk, current)
            continue
        if line.startswith(("rename from ", "copy from ")):
            current.old = _unquote(line.split(" ", 2)[2])
        elif line.startswith(("rename to ", "copy to ")):
            current.new = _unquote(line.split(" ", 2)[2])
        elif line.startswith("deleted file mode"):
            current.deleted = True
        elif line.startswith("Binary files ") and line.endswith(" differ") and current.new is None:
            # "Binary files a/x and b/y differ": the names when the diff --git line could not say.
            names = line[len("Binary files ") : -len(" differ")].split(" and ")
            if len(names) == 2:
                current.old = current.old or _strip_prefix(_header_path(names[0]), current.old_prefix)
                current.new = _strip_prefix(_header_path(names[1]), current.new_prefix)
        i += 1
    if current is not None:
        yield current.edit()


def _read_hunk(lines: list[str], i: int, hunk: re.Match[str], current: _FileDiff) -> int:
    """Read one hunk's body starting at ``lines[i]``; returns the index after it."""
    old_left = int(hunk.group(2)) if hunk.group(2) is not None else 1
    new_left = int(hunk.group(4)) if hunk.group(4) is not None else 1
    number = int(hunk.group(3))  # line number in the new file of the next context or added line
    while i < len(lines) and (old_left > 0 or new_left > 0):
        line = lines[i]
        tag, text = line[:1], line[1:]
        if tag == "+":
            current.added.append(_content(text))
            _extend(current.ranges, number, number)
            number += 1
            new_left -= 1
        elif tag == "-":
            current.removed += 1
            old_left -= 1
        elif tag == " " or line in ("", "\r"):  # some tools strip the space of empty context lines
            number += 1
            old_left -= 1
            new_left -= 1
        elif tag == "\\":
            pass  # "\ No newline at end of file"
        else:
            break  # a truncated hunk: its counts promised more lines than there are
        i += 1
    while i < len(lines) and lines[i].startswith("\\"):
        i += 1  # the marker after a hunk's last line
    return i


# --- languages -------------------------------------------------------------------

_EXTENSIONS: dict[str, tuple[str, ...]] = {
    "python": ("py", "pyi", "pyw", "pyx"),
    "javascript": ("js", "jsx", "mjs", "cjs"),
    "typescript": ("ts", "tsx", "mts", "cts"),
    "java": ("java",),
    "kotlin": ("kt", "kts"),
    "scala": ("scala", "sc"),
    "groovy": ("groovy", "gradle"),
    "go": ("go",),
    "rust": ("rs",),
    "c": ("c", "h"),
    "cpp": ("cc", "cpp", "cxx", "c++", "hh", "hpp", "hxx", "h++", "ipp"),
    "csharp": ("cs", "csx"),
    "fsharp": ("fs", "fsi", "fsx"),
    "objective-c": ("m", "mm"),
    "swift": ("swift",),
    "dart": ("dart",),
    "ruby": ("rb", "rake", "gemspec"),
    "php": ("php",),
    "perl": ("pl", "pm"),
    "lua": ("lua",),
    "r": ("r",),
    "julia": ("jl",),
    "elixir": ("ex", "exs"),
    "erlang": ("erl", "hrl"),
    "haskell": ("hs",),
    "ocaml": ("ml", "mli"),
    "clojure": ("clj", "cljs", "cljc", "edn"),
    "zig": ("zig",),
    "shell": ("sh", "bash", "zsh", "ksh", "fish"),
    "powershell": ("ps1", "psm1", "psd1"),
    "sql": ("sql",),
    "html": ("html", "htm"),
    "css": ("css", "scss", "sass", "less"),
    "vue": ("vue",),
    "svelte": ("svelte",),
    "markdown": ("md", "markdown", "mdx"),
    "json": ("json", "jsonc"),
    "yaml": ("yaml", "yml"),
    "toml": ("toml",),
    "xml": ("xml", "xsd", "xsl"),
    "protobuf": ("proto",),
    "terraform": ("tf", "tfvars", "hcl"),
    "dockerfile": ("dockerfile",),
    "makefile": ("mk", "mak"),
}
LANGUAGES: dict[str, str] = {ext: language for language, exts in _EXTENSIONS.items() for ext in exts}
"""File extension (lower case, no dot) -> language."""
FILENAMES: dict[str, str] = {
    "dockerfile": "dockerfile",
    "containerfile": "dockerfile",
    "makefile": "makefile",
    "gnumakefile": "makefile",
    "gemfile": "ruby",
    "rakefile": "ruby",
    "jenkinsfile": "groovy",
}
"""Whole file names (lower case) that say the language without an extension."""


def language_of(path: str | os.PathLike[str]) -> str:
    """The language of a file by its name or extension ("" when unknown)."""
    name = posixpath.basename(os.fspath(path).replace("\\", "/")).lower()
    if name in FILENAMES:
        return FILENAMES[name]
    stem, dot, ext = name.rpartition(".")
    if dot and stem and ext in LANGUAGES:
        return LANGUAGES[ext]
    if stem in FILENAMES:  # Dockerfile.dev, Makefile.inc
        return FILENAMES[stem]
    return ""


def attributes(edit: Edit) -> dict[str, object]:
    """Vocabulary attributes of an edit; the line range only when lines were added, the language when known."""
    attrs: dict[str, object] = {
        CODE_FILE_PATH: edit.path,
        LINES_ADDED: len(edit.added),
        LINES_REMOVED: edit.removed,
    }
    if edit.ranges:
        attrs[LINE_START] = edit.line_start
        attrs[LINE_END] = edit.line_end
    prints = edit.fingerprints
    if prints:
        attrs[LINE_FINGERPRINTS] = [to_signed(fp) for fp in prints]
    if edit.language:
        attrs[LANGUAGE] = edit.language
    return attrs
