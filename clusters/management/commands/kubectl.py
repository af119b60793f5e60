"""``manage.py kubectl --cluster SLUG ARGS…``: kubectl's subset, through the same services as the web app."""

from __future__ import annotations

import sys
from pathlib import Path
from typing import Any

from django.core.management.base import BaseCommand, CommandParser

from clusters.access import OPERATOR
from clusters.kubectl_api import ServiceApi
from clusters.models import Cluster
from kubelab.sim.kubectl import run


class Command(BaseCommand):
    help = "Run a kubectl command (apply, get, describe, scale, set image, rollout, delete, cordon, uncordon, drain) on a cluster."

    def add_arguments(self, parser: CommandParser) -> None:
        parser.add_argument("--cluster", default="demo", help="the cluster's slug (default: demo)")
        parser.add_argument("args", nargs="*", help="kubectl's arguments, e.g. get pods -o wide")

    def run_from_argv(self, argv: list[str]) -> None:
        # Keep kubectl's own flags (-o wide, -n x, --replicas=3) away from Django's parser.
        rest = argv[2:]
        slug = "demo"
        if rest and rest[0].startswith("--cluster"):
            if "=" in rest[0]:
                slug = rest[0].split("=", 1)[1]
                rest = rest[1:]
            elif len(rest) > 1:
                slug, rest = rest[1], rest[2:]
        if rest and rest[0] == "--":
            rest = rest[1:]
        import django

        django.setup()
        self.execute(
            cluster=slug,
            args=rest,
            verbosity=1,
            no_color=False,
            force_color=False,
            skip_checks=True,
        )

    def handle(self, *args: Any, **opts: Any) -> None:
        cluster = Cluster.objects.filter(slug=opts["cluster"]).first()
        if cluster is None:
            sys.stderr.write(f'error: cluster "{opts["cluster"]}" not found\n')
            sys.exit(1)
        argv = list(opts["args"])
        stdin = sys.stdin.read() if "-" in argv else None
        result = run(
            ServiceApi(cluster.pk, OPERATOR),
            argv,
            stdin=stdin,
            read_file=lambda p: Path(p).read_text(),
        )
        sys.stdout.write(result.out)
        if result.err:
            sys.stderr.write(result.err if result.err.endswith("\n") else result.err + "\n")
        if result.code:
            sys.exit(result.code)
