"""The ``infoshare`` command: ``main`` reads as the list of commands; longer command bodies sit beside it.

It may import everything in the project: nothing imports it.
"""
