"""Each answer's Date header, formatted once a second instead of once a request.

gunicorn formats the header's date with ``email.utils.formatdate`` for every
response (profiled under load: ~2% of a request thread's time, for a value
that changes once a second). The date it writes has whole seconds only, so
the text made for a second is the text for every answer in that second;
``install`` points gunicorn's ``util.http_date`` at this module's, which
writes the same text for a given timestamp.
"""

from __future__ import annotations

import email.utils
import time

from gunicorn import util

_made: tuple[int, str] = (-1, "")  # (second, its text): one tuple, so threads never see half of it


def http_date(timestamp: float | None = None) -> str:
    """What ``gunicorn.util.http_date`` answers, the current second's text made once."""
    global _made
    if timestamp is not None:
        return email.utils.formatdate(timestamp, localtime=False, usegmt=True)
    second = int(time.time())
    made = _made
    if made[0] != second:
        made = _made = (second, email.utils.formatdate(second, localtime=False, usegmt=True))
    return made[1]


def install() -> None:
    util.http_date = http_date
