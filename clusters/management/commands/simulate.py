"""``manage.py simulate FILE``: run a scenario headless and print the final state."""

from __future__ import annotations

import json
import sys
from pathlib import Path
from typing import Any, NoReturn

from django.core.management.base import BaseCommand, CommandParser

from kubelab.sim.clock import parse_duration
from kubelab.sim.kubectl import LocalApi
from kubelab.sim.kubectl import run as kubectl_run
from kubelab.sim.scenario import ScenarioError, load_scenario, run_scenario, summary


class Command(BaseCommand):
    help = (
        "Run a scenario file headless (no server, no database) and print the final cluster state."
    )
    requires_system_checks: list[str] = []
    requires_migrations_checks = False

    def add_arguments(self, parser: CommandParser) -> None:
        parser.add_argument("file", help="scenario YAML file, or - for standard input")
        parser.add_argument(
            "--until",
            help="simulated time to stop at (e.g. 600s, 10m); default: the scenario's until",
        )
        parser.add_argument("--format", choices=["json", "text"], default="text")

    def fail(self, message: str) -> NoReturn:
        """kubectl's habit: the message on stderr, exit code 1, no traceback."""
        self.stderr.write(message)
        sys.exit(1)

    def handle(self, *args: Any, **opts: Any) -> None:
        path = opts["file"]
        try:
            raw = sys.stdin.buffer.read() if path == "-" else Path(path).read_bytes()
        except FileNotFoundError:
            self.fail(f'error: the path "{path}" does not exist')
        except OSError as e:
            self.fail(f"error: {e}")
        try:
            until = parse_duration(opts["until"]) if opts.get("until") else None
        except ValueError as e:
            self.fail(f"error: --until: {e}")
        log: list[str] = []
        try:
            scenario = load_scenario(raw, "STDIN" if path == "-" else Path(path).name)
            state = run_scenario(scenario, until=until, log=log)
        except ScenarioError as e:
            self.fail(str(e))
        if opts["format"] == "json":
            self.stdout.write(json.dumps(summary(state), indent=2))
            return
        api = LocalApi(state)
        self.stdout.write(f"# {scenario.name or path} at {state.now:g}s")
        for line in log:
            self.stdout.write(line)
        for what in ("nodes", "deployments", "replicasets", "pods -o wide", "services", "events"):
            result = kubectl_run(api, f"get {what}")
            self.stdout.write(f"\n$ kubectl get {what}")
            self.stdout.write((result.out or result.err).rstrip("\n"))
