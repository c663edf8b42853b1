"""The decision log: models, the database and its setup, the hash chain, append-only triggers, stored policy versions.

It may import the engine (to rebuild a stored policy version) and peewee;
never the API or Flask, so the command line and the server share one store.
"""
