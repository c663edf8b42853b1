"""infoshare's HTTP service: verdicts, the decision log, co-ordinator reviews, API keys."""

from infoshare.service.app import create_app

__all__ = ["create_app"]
