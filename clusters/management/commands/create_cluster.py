"""``manage.py create_cluster SLUG [--scenario FILE]``: create a cluster (the demo one with ``--demo``)."""

from __future__ import annotations

from pathlib import Path
from typing import Any

from django.core.management.base import BaseCommand, CommandError, CommandParser

from clusters import services
from clusters.models import Cluster


class Command(BaseCommand):
    help = "Create a cluster from a scenario file (default: 3 workers and a control plane, nothing deployed)."

    def add_arguments(self, parser: CommandParser) -> None:
        parser.add_argument("slug", nargs="?", default="demo")
        parser.add_argument("--scenario", help="scenario YAML file")
        parser.add_argument(
            "--demo",
            action="store_true",
            help="create the demo cluster (slug demo) if it does not exist",
        )

    def handle(self, *args: Any, **opts: Any) -> None:
        if opts["demo"]:
            cluster = services.demo_cluster_ensure()
            self.stdout.write(f"cluster/{cluster.slug} ready")
            return
        if Cluster.objects.filter(slug=opts["slug"]).exists():
            raise CommandError(f'cluster "{opts["slug"]}" already exists')
        text = Path(opts["scenario"]).read_text() if opts.get("scenario") else ""
        try:
            cluster = services.cluster_create(slug=opts["slug"], scenario_text=text)
        except services.ServiceError as e:
            raise CommandError(str(e)) from None
        self.stdout.write(f"cluster/{cluster.slug} created")
