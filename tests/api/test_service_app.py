"""The application class: what it remembers about the functions Flask runs on every request."""

from __future__ import annotations

import gc

from flask import Flask

from infoshare.service.app import Service


def test_a_plain_function_is_looked_at_once_and_only_while_it_lives(monkeypatch):
    looked_at = []
    original = Flask.ensure_sync

    def counting(self, func):
        looked_at.append(func.__name__)
        return original(self, func)

    monkeypatch.setattr(Flask, "ensure_sync", counting)
    app = Service(__name__)

    def hook() -> None:
        pass

    assert app.ensure_sync(hook) is hook
    assert app.ensure_sync(hook) is hook
    assert looked_at == ["hook"]

    class View:
        def run(self) -> None:
            pass

    view = View()
    for _ in range(3):
        assert app.ensure_sync(view.run) == view.run
    assert looked_at == ["hook", "run", "run", "run"]  # a bound method is a new object each time: never kept

    for n in range(100):  # functions made for one request each, say
        namespace: dict = {}
        exec(f"def made_{n}(): pass", namespace)
        app.ensure_sync(namespace[f"made_{n}"])
    del namespace
    gc.collect()
    assert list(app._sync) == [hook]  # the ones gone are forgotten
