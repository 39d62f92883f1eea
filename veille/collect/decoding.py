"""Content-Encoding decoding with a bound on every step.

Kept apart from the fetcher because it is the one place where a hostile body can explode:
each decompression call yields at most `CHUNK` bytes, so the fetcher can stop a gzip bomb
as soon as the decoded size passes its limit.
"""

from __future__ import annotations

import importlib.util
import zlib
from collections.abc import Iterator
from typing import Any, Protocol

from veille.errors import FetchError

_HAS_BROTLI = importlib.util.find_spec("brotli") is not None
ACCEPT_ENCODING = "gzip, deflate, br" if _HAS_BROTLI else "gzip, deflate"
CHUNK = 64 * 1024


class _Decoder(Protocol):
    def feed(self, data: bytes) -> Iterator[bytes]: ...

    def finish(self) -> Iterator[bytes]: ...


class _Zlib:
    """gzip or deflate, inflated at most 64 KB at a time.

    Bounding each `decompress` call (max_length, then `unconsumed_tail`) is what keeps a
    bomb from inflating in one call: a 64 KB chunk of zeros would otherwise become 64 MB.
    The caller stops pulling pieces once the body passes max_bytes.
    """

    def __init__(self, encoding: str) -> None:
        self._gzip = encoding in ("gzip", "x-gzip")
        self._obj = self._new()
        self._started = False

    def _new(self) -> Any:
        # gzip: 16+MAX_WBITS; deflate: zlib-wrapped per RFC, raw deflate from some servers.
        return zlib.decompressobj(16 + zlib.MAX_WBITS if self._gzip else zlib.MAX_WBITS)

    def feed(self, data: bytes) -> Iterator[bytes]:
        pending = data
        while pending:
            try:
                piece = self._obj.decompress(pending, CHUNK)
            except zlib.error:
                if self._gzip or self._started:
                    raise
                self._obj = zlib.decompressobj(-zlib.MAX_WBITS)  # raw deflate
                self._started = True
                continue
            self._started = True
            if piece:
                yield piece
            pending = self._obj.unconsumed_tail
            if self._obj.eof:
                rest = self._obj.unused_data
                if not (self._gzip and rest.startswith(b"\x1f\x8b")):
                    return  # trailing padding after the stream: ignored, as gzip(1) does
                pending = rest  # concatenated gzip members
                self._obj = self._new()

    def finish(self) -> Iterator[bytes]:
        # What inflate still holds once the input is consumed: at most one window (32 KB).
        tail = self._obj.flush()
        if tail:
            yield tail


class _Brotli:
    def __init__(self) -> None:
        import brotli

        self._obj = brotli.Decompressor()

    def feed(self, data: bytes) -> Iterator[bytes]:
        # Not bounded per call (older bindings cannot): one 64 KB chunk inflates at once.
        yield bytes(self._obj.process(data))

    def finish(self) -> Iterator[bytes]:
        return iter(())


def decoder_chain(content_encoding: str) -> list[_Decoder]:
    names = [n.strip().lower() for n in content_encoding.split(",") if n.strip()]
    chain: list[_Decoder] = []
    for name in reversed(names):  # the last encoding applied is undone first
        if name == "identity":
            continue
        if name in ("gzip", "x-gzip", "deflate"):
            chain.append(_Zlib(name))
        elif name == "br" and _HAS_BROTLI:
            chain.append(_Brotli())
        else:
            raise FetchError(
                f"The server used a content encoding we cannot decode: {name}.", kind="decode"
            )
    return chain


def decode(chain: list[_Decoder], data: bytes) -> Iterator[bytes]:
    """Pieces of the fully decoded body for one raw chunk, produced lazily."""
    if not chain:
        if data:
            yield data
        return
    for piece in chain[0].feed(data):
        yield from decode(chain[1:], piece)


def decode_end(chain: list[_Decoder]) -> Iterator[bytes]:
    for i, decoder in enumerate(chain):
        for piece in decoder.finish():
            yield from decode(chain[i + 1 :], piece)
