"""``python -m service`` is the ``infoshare`` command."""

from infoshare.service.cli.main import main

main()
