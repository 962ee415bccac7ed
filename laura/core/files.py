"""Bytes kept by their SHA-256 under a folder, and what their content says they are.

A blob is written to a temporary file while it is hashed and counted, then renamed to its hash (the same
content uploaded twice is kept once); past the size limit the writing stops and nothing is kept. The type
is sniffed from the content (`filetype`'s magic numbers), never taken from a name or a header; text is
whatever is valid UTF-8 without control characters other than tab, CR and LF. What a feature allows is
its own rule: this module only answers what the content is.
"""

from __future__ import annotations

import asyncio
import codecs
import hashlib
import os
import re
import tempfile
from collections.abc import Awaitable, Callable, Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import IO

import filetype

TEXT_PLAIN = "text/plain"
CHUNK_BYTES = 64 * 1024
_SNIFF_BYTES = 8192
_CONTROL = re.compile("[\x00-\x08\x0b\x0c\x0e-\x1f\x7f-\x9f]")
"""Control characters (C0, DEL, C1) other than tab, LF and CR: not in a text file."""


class TooLarge(Exception):
    """The content went past the limit; nothing was kept."""


class NotAllowed(Exception):
    """The content is not of an allowed type (or is empty); nothing was kept."""

    def __init__(self, content_type: str | None) -> None:
        super().__init__(content_type)
        self.content_type = content_type


@dataclass(frozen=True)
class Blob:
    sha256: str
    size: int
    content_type: str | None
    """The sniffed MIME type; None when the content is empty, or neither a known format nor plain text."""


class FileStore:
    """Content-addressed files under `root` (`<root>/ab/cd/<sha256>`)."""

    def __init__(self, root: Path) -> None:
        self.root = root

    def path(self, sha256: str) -> Path:
        return self.root / sha256[:2] / sha256[2:4] / sha256

    def untouched_since(self, cutoff: float) -> Iterator[tuple[str | None, Path]]:
        """Every blob (its hash) and leftover temporary file (None) last written before `cutoff` (a
        POSIX time): what a sweep may remove once it knows no row names it."""
        if not self.root.is_dir():
            return
        for path in self.root.glob("*/*/*"):
            if path.is_file() and path.stat().st_mtime < cutoff:
                yield path.name, path
        for path in (self.root / "tmp").glob("*"):
            if path.is_file() and path.stat().st_mtime < cutoff:
                yield None, path

    async def put(
        self, read: Callable[[int], Awaitable[bytes]], *, limit: int, allowed: frozenset[str]
    ) -> Blob:
        """Store what `read(n)` gives until it gives b"": `TooLarge` once past `limit`, `NotAllowed` when
        its sniffed type is not in `allowed`, and then nothing is kept."""
        (self.root / "tmp").mkdir(parents=True, exist_ok=True)
        handle, name = tempfile.mkstemp(dir=self.root / "tmp")
        temporary = Path(name)
        try:
            with os.fdopen(handle, "wb") as out:
                blob = await _write(read, out, limit)
            if blob.content_type not in allowed:
                raise NotAllowed(blob.content_type)
            final = self.path(blob.sha256)
            final.parent.mkdir(parents=True, exist_ok=True)
            os.replace(temporary, final)  # same content, same bytes: replacing an existing copy is harmless
            return blob
        finally:
            temporary.unlink(missing_ok=True)


async def _write(read: Callable[[int], Awaitable[bytes]], out: IO[bytes], limit: int) -> Blob:
    digest = hashlib.sha256()
    text = _TextCheck()
    head = b""
    size = 0
    while chunk := await read(CHUNK_BYTES):
        size += len(chunk)
        if size > limit:
            raise TooLarge()
        digest.update(chunk)
        text.feed(chunk)
        if len(head) < _SNIFF_BYTES:
            head += chunk[: _SNIFF_BYTES - len(head)]
        await asyncio.to_thread(out.write, chunk)
    kind = filetype.guess_mime(head) if size else None
    if size and kind is None and text.done():
        kind = TEXT_PLAIN
    return Blob(sha256=digest.hexdigest(), size=size, content_type=kind)


class _TextCheck:
    """Whether the bytes fed so far are valid UTF-8 text with no control character but tab, CR and LF."""

    def __init__(self) -> None:
        self._decoder = codecs.getincrementaldecoder("utf-8")()
        self.ok = True

    def feed(self, chunk: bytes, *, final: bool = False) -> None:
        if not self.ok:
            return
        try:
            decoded = self._decoder.decode(chunk, final=final)
        except UnicodeDecodeError:
            self.ok = False
            return
        self.ok = _CONTROL.search(decoded) is None

    def done(self) -> bool:
        self.feed(b"", final=True)
        return self.ok
