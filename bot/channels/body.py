"""A webhook's body, read only up to a limit: an oversized request is refused before it is held in memory."""

from __future__ import annotations

from starlette.requests import Request


async def read_body(request: Request, limit: int) -> bytes | None:
    """The body, or None as soon as it is known to exceed `limit` bytes: by its declared Content-Length, without
    reading a byte, or while the chunks arrive (a chunked upload, or one longer than it declared)."""
    declared = request.headers.get("content-length", "")
    if declared and (not (declared.isascii() and declared.isdigit()) or int(declared) > limit):
        return None
    parts: list[bytes] = []
    total = 0
    async for chunk in request.stream():
        total += len(chunk)
        if total > limit:
            return None
        parts.append(chunk)
    return b"".join(parts)
