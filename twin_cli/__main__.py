"""``python -m twin_cli`` runs the same CLI as the ``twin`` console script."""

from twin_cli import main

main()
