"""An answer's head and body leave in one socket write, byte for byte what gunicorn would send."""

from __future__ import annotations

from types import SimpleNamespace

import pytest
from gunicorn.http import wsgi

from infoshare.service.onewrite import OneWriteResponse


class Socket:
    def __init__(self) -> None:
        self.writes: list[bytes] = []

    def sendall(self, data: bytes) -> None:
        self.writes.append(bytes(data))


def answer(response_class: type, body: list[bytes], method: str = "POST", chunked: bool = False) -> list[bytes]:
    """The socket writes of one response of ``body``'s chunks (with a Content-Length unless ``chunked``)."""
    sock = Socket()
    request = SimpleNamespace(version=(1, 1), method=method, should_close=lambda: False)
    response = response_class(request, sock, SimpleNamespace())
    response.status, response.status_code = "200 OK", 200
    response.headers = [("Content-Type", "application/json")]
    if chunked:
        response.chunked = True
    else:
        response.response_length = sum(map(len, body))
        response.headers.append(("Content-Length", str(response.response_length)))
    for chunk in body:
        response.write(chunk)
    response.close()
    return sock.writes


def test_a_small_answer_is_one_write_of_what_gunicorn_sends_in_two():
    gunicorn, ours = (
        answer(wsgi.Response, [b'{"decision": "share"}']),
        answer(OneWriteResponse, [b'{"decision": "share"}']),
    )
    assert len(gunicorn) == 2 and len(ours) == 1
    assert _without_date(ours[0]) == _without_date(b"".join(gunicorn))
    assert ours[0].endswith(b'\r\n\r\n{"decision": "share"}')


@pytest.mark.parametrize(
    ("body", "method", "chunked"),
    [([b"{", b"}"], "POST", False), ([], "POST", False), ([b""], "HEAD", False), ([b"ab", b"cd"], "POST", True)],
)
def test_other_answers_send_what_gunicorn_sends(body, method, chunked):
    """Later chunks, an empty body, HEAD and chunked bodies: the same bytes, head first."""
    gunicorn = answer(wsgi.Response, body, method, chunked)
    ours = answer(OneWriteResponse, body, method, chunked)
    assert _without_date(b"".join(ours)) == _without_date(b"".join(gunicorn))
    assert len(ours) <= len(gunicorn)


def _without_date(data: bytes) -> bytes:
    return b"\r\n".join(line for line in data.split(b"\r\n") if not line.startswith(b"Date: "))


def test_the_server_answers_through_it():
    """`infoshare serve` installs it: every HTTP/1 response gunicorn makes is one of these."""
    from infoshare.service import onewrite

    original = wsgi.Response
    try:
        onewrite.install()
        assert wsgi.Response is OneWriteResponse
    finally:
        wsgi.Response = original
