"""``python -m raretrace`` runs the command line."""

from raretrace.cli.main import main

main()
