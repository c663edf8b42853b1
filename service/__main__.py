"""``python -m service`` is the ``infoshare`` command."""

from service.cli import main

main()
