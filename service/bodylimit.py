"""A body sent without Content-Length (``Transfer-Encoding: chunked``) meets the size limit too.

Flask refuses a declared ``Content-Length`` over ``MAX_CONTENT_LENGTH`` with a
413, but a chunked body has no length to check: werkzeug read it only up to
the limit and handed on what it had, so a 3 MiB chunked body was cut at
1 MiB and parsed (and answered 200). This WSGI middleware reads such a body
first, up to one byte more than the limit, and gives the app that byte
count as its Content-Length (and the body as no longer chunked, which it
now is not), so the app's own check answers 413 with its usual JSON
error, exactly as for a declared length.
"""

from __future__ import annotations

import io
from collections.abc import Iterable
from typing import Any

WSGIApp = Any


class WholeChunkedBody:
    def __init__(self, app: WSGIApp, limit: int) -> None:
        self.app, self.limit = app, limit

    def __call__(self, environ: dict[str, Any], start_response: Any) -> Iterable[bytes]:
        if not environ.get("CONTENT_LENGTH") and environ.get("wsgi.input_terminated"):
            data = self._read(environ["wsgi.input"])
            environ["wsgi.input"] = io.BytesIO(data)
            environ["CONTENT_LENGTH"] = str(len(data))
            environ.pop("HTTP_TRANSFER_ENCODING", None)  # werkzeug ignores a length beside "chunked"
        return self.app(environ, start_response)

    def _read(self, stream: Any) -> bytes:
        """Up to limit + 1 bytes; a server's read may return less than asked before the end."""
        parts, held = [], 0
        while held <= self.limit and (part := stream.read(self.limit + 1 - held)):
            parts.append(part)
            held += len(part)
        return b"".join(parts)
