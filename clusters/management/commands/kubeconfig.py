"""``manage.py kubeconfig --cluster SLUG [--user NAME] --server URL``: a kubeconfig for real kubectl.

Without ``--user`` it is the cluster's administrator (``kubernetes-admin``, as kubeadm names it);
with it, the student whose namespace or display name is NAME, or the instructor whose username is
NAME. It prints the same kubeconfig the cluster page's "Use your own kubectl" downloads.
"""

from __future__ import annotations

from typing import Any

from django.contrib.auth import get_user_model
from django.core.management.base import BaseCommand, CommandError, CommandParser
from django.db.models import Q

from clusters import credentials
from clusters.access import ADMIN_USER
from clusters.models import Classroom, Cluster, Membership


class Command(BaseCommand):
    help = "Print a kubeconfig for a cluster's Kubernetes API (the administrator, or --user NAME)."

    def add_arguments(self, parser: CommandParser) -> None:
        parser.add_argument("--cluster", default="demo", help="the cluster's slug (default: demo)")
        parser.add_argument(
            "--user", default="", help="a student (namespace or name) or instructor"
        )
        parser.add_argument(
            "--server",
            default="http://127.0.0.1:8000",
            help="the URL KubeLab is served at (default: http://127.0.0.1:8000)",
        )

    def handle(self, *args: Any, **opts: Any) -> None:
        cluster = Cluster.objects.filter(slug=opts["cluster"]).first()
        if cluster is None:
            raise CommandError(f'cluster "{opts["cluster"]}" not found')
        name = opts["user"]
        namespace = "default"
        if not name or name == ADMIN_USER:
            tok, user = credentials.token(cluster, "a"), ADMIN_USER
        else:
            member = Membership.objects.filter(
                Q(namespace=name) | Q(display_name=name), cluster=cluster
            ).first()
            if member is not None:
                tok, user, namespace = (
                    credentials.token(cluster, "s", member.pk),
                    member.namespace,
                    member.namespace,
                )
            else:
                account = get_user_model().objects.filter(username=name).first()
                classroom = Classroom.objects.filter(cluster=cluster).first()
                allowed = account is not None and (
                    account.is_superuser
                    or (classroom is None and account.is_staff)
                    or (classroom is not None and classroom.owner_id == account.pk)
                )
                if not allowed:
                    raise CommandError(
                        f'no student or instructor "{name}" in cluster "{cluster.slug}"'
                    )
                tok, user = credentials.token(cluster, "u", account.pk), account.get_username()
        self.stdout.write(
            credentials.kubeconfig(cluster, opts["server"], tok, user, namespace), ending=""
        )
