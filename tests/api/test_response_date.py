"""The Date header's text, made once a second."""

from __future__ import annotations

import email.utils
import time

from gunicorn import util

from infoshare.service import responsedate


def test_every_moment_gets_the_text_gunicorn_would_write(monkeypatch):
    moments = [1_700_000_000.0, 1_700_000_000.999, 1_700_000_001.0, 1_700_000_001.5, 1_800_000_059.25]
    for moment in moments:
        monkeypatch.setattr(time, "time", lambda moment=moment: moment)
        expected = email.utils.formatdate(moment, localtime=False, usegmt=True)
        assert responsedate.http_date() == expected
        assert responsedate.http_date(moment) == expected


def test_gunicorn_writes_it_once_installed(monkeypatch):
    monkeypatch.setattr(util, "http_date", util.http_date)  # put back afterwards
    responsedate.install()
    assert util.http_date is responsedate.http_date
    parsed = email.utils.parsedate_to_datetime(util.http_date())
    assert abs(parsed.timestamp() - time.time()) < 2
