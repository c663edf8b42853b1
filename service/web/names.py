"""How a page names whoever made a record: a person by their name, an API client by its own name."""

from __future__ import annotations

from infoshare.service.access.people import CLIENT_PREFIX
from infoshare.service.store.models import Person


def of(client: str | None) -> str:
    if not client or not client.startswith(CLIENT_PREFIX):
        return client or "unknown"
    person = Person.get_or_none(Person.login == client.removeprefix(CLIENT_PREFIX))
    return person.name if person else client
