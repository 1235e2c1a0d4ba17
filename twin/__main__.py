"""``python -m twin`` runs the same CLI as the ``twin`` console script."""

from twin.cli import main

main()
