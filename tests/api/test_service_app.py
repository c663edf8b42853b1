"""The application class: what it remembers about the functions Flask runs on every request."""

from __future__ import annotations

from flask import Flask

from infoshare.service.app import Service


def test_a_plain_function_is_looked_at_once_and_bound_methods_are_not_kept(monkeypatch):
    looked_at = []
    original = Flask.ensure_sync

    def counting(self, func):
        looked_at.append(func)
        return original(self, func)

    monkeypatch.setattr(Flask, "ensure_sync", counting)
    app = Service(__name__)

    def hook() -> None:
        pass

    assert app.ensure_sync(hook) is hook
    assert app.ensure_sync(hook) is hook
    assert looked_at == [hook]

    class View:
        def run(self) -> None:
            pass

    view = View()
    for _ in range(3):
        assert app.ensure_sync(view.run) == view.run
    assert len(looked_at) == 4  # a bound method is a new object each time: asked about, never kept

    for n in range(Service.SYNC_CACHE + 10):
        namespace: dict = {}
        exec(f"def f{n}(): pass", namespace)
        app.ensure_sync(namespace[f"f{n}"])
    assert len(app._sync) == Service.SYNC_CACHE
