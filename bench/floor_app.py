"""The HTTP floor: a Flask endpoint that validates nothing and returns a constant,
served by infoshare's own server settings (service.server.run), so that the
difference to `infoshare serve` is infoshare's own work per request.

    python bench/floor_app.py --port 8081 [--workers 2]
"""

from __future__ import annotations

import argparse
from types import SimpleNamespace

from flask import Flask
from peewee import SqliteDatabase

from infoshare.service import server

ANSWER = {"decision": "refer", "explain_to_subject": True}


def create_app() -> Flask:
    app = Flask(__name__)

    @app.post("/floor")
    def floor() -> tuple[dict, int]:
        return ANSWER, 200

    @app.get("/readyz")
    def ready() -> dict:
        return {"ready": True}

    # The server releases the store's connections around each fork and starts each worker's background
    # work (the log's checkpoint signer, the interview's first answers): the floor has a store it never
    # opens, no log to sign and no interview.
    app.extensions["infoshare"] = SimpleNamespace(
        database=SqliteDatabase(":memory:"), checkpoints=SimpleNamespace(start=lambda: None), engine=None
    )
    app.config["INFOSHARE_WARM_INTERVIEW"] = False
    return app


if __name__ == "__main__":
    parser = argparse.ArgumentParser()
    parser.add_argument("--port", type=int, required=True)
    parser.add_argument("--workers", type=int, default=2)
    args = parser.parse_args()
    server.run(create_app(), "127.0.0.1", args.port, args.workers)
