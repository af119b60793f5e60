"""The simulated image registry: which repositories and tags exist, their sizes, and how
their containers behave when they run (serve forever, exit, need an env variable).

Image references are normalised like containerd does: ``nginx`` is
``docker.io/library/nginx:latest``; ``docker.io/nginx`` and ``library/nginx`` are the same.
"""

from __future__ import annotations

import re
from dataclasses import dataclass, field

MB = 1_000_000


@dataclass(frozen=True)
class Repo:
    tags: dict[str, int]  # tag -> compressed size in bytes
    kind: str = "server"  # server | oneshot
    ports: tuple[int, ...] = ()
    paths: frozenset[str] | None = None  # HTTP paths answering 200; None = any path
    requires_env: tuple[tuple[str, ...], str] | None = None  # (any of these vars, error printed)
    stop_seconds: float = 0.5  # time to exit after SIGTERM


def _tags(sizes: dict[str, float]) -> dict[str, int]:
    return {t: int(s * MB) for t, s in sizes.items()}


_WEB = frozenset({"/", "/index.html"})
REPOS: dict[str, Repo] = {
    "docker.io/library/nginx": Repo(
        _tags(
            {
                "1.14.2": 44.7,
                "1.16.1": 51.0,
                "1.19": 53.6,
                "1.25": 70.5,
                "1.25.5": 70.6,
                "1.26": 72.2,
                "1.27": 72.1,
                "1.27.3": 72.1,
                "1.28": 72.3,
                "1.29": 72.8,
                "stable": 72.3,
                "latest": 72.8,
                "alpine": 20.9,
                "1.27-alpine": 20.7,
                "mainline": 72.8,
            }
        ),
        ports=(80,),
        paths=_WEB,
        stop_seconds=0.3,
    ),
    "docker.io/library/httpd": Repo(
        _tags({"2.4": 58.3, "2.4.62": 58.3, "latest": 58.3, "alpine": 22.1}),
        ports=(80,),
        paths=_WEB,
    ),
    "docker.io/library/redis": Repo(
        _tags(
            {
                "6.2": 40.2,
                "7": 45.5,
                "7.2": 45.4,
                "7.4": 45.6,
                "8": 52.1,
                "latest": 52.1,
                "alpine": 17.3,
                "7-alpine": 17.1,
            }
        ),
        ports=(6379,),
        paths=frozenset(),
    ),
    "docker.io/library/postgres": Repo(
        _tags(
            {
                "15": 150.1,
                "16": 153.4,
                "17": 158.2,
                "latest": 158.2,
                "16-alpine": 104.9,
                "17-alpine": 107.5,
            }
        ),
        ports=(5432,),
        paths=frozenset(),
        requires_env=(
            ("POSTGRES_PASSWORD", "POSTGRES_HOST_AUTH_METHOD"),
            "Error: Database is uninitialized and superuser password is not specified.",
        ),
        stop_seconds=1.0,
    ),
    "docker.io/library/mysql": Repo(
        _tags({"8.0": 165.3, "8.4": 170.1, "9": 178.0, "latest": 178.0}),
        ports=(3306,),
        paths=frozenset(),
        requires_env=(
            ("MYSQL_ROOT_PASSWORD", "MYSQL_ALLOW_EMPTY_PASSWORD", "MYSQL_RANDOM_ROOT_PASSWORD"),
            "error: database is uninitialized and password option is not specified",
        ),
        stop_seconds=2.0,
    ),
    "docker.io/library/mongo": Repo(
        _tags({"7": 250.4, "8": 262.0, "latest": 262.0}), ports=(27017,), paths=frozenset()
    ),
    "docker.io/library/memcached": Repo(
        _tags({"1.6": 30.1, "latest": 30.1, "alpine": 5.2}), ports=(11211,), paths=frozenset()
    ),
    "docker.io/library/rabbitmq": Repo(
        _tags({"3": 95.2, "3-management": 110.4, "4": 98.0, "latest": 98.0}),
        ports=(5672,),
        paths=frozenset(),
    ),
    "docker.io/library/busybox": Repo(
        _tags({"1.36": 2.2, "1.37": 2.2, "latest": 2.2, "stable": 2.2}), kind="oneshot"
    ),
    "docker.io/library/alpine": Repo(
        _tags({"3.19": 3.4, "3.20": 3.6, "3.21": 3.6, "3.22": 3.8, "latest": 3.8}), kind="oneshot"
    ),
    "docker.io/library/ubuntu": Repo(
        _tags({"22.04": 29.5, "24.04": 29.7, "latest": 29.7}), kind="oneshot"
    ),
    "docker.io/library/debian": Repo(
        _tags({"bookworm": 48.5, "bookworm-slim": 28.2, "latest": 48.5}), kind="oneshot"
    ),
    "docker.io/library/python": Repo(
        _tags(
            {"3.12": 370.0, "3.12-slim": 45.1, "3.13": 375.0, "3.13-slim": 46.0, "latest": 375.0}
        ),
        kind="oneshot",
    ),
    "docker.io/library/node": Repo(
        _tags({"20": 390.0, "20-alpine": 45.3, "22": 395.0, "22-alpine": 46.8, "latest": 395.0}),
        kind="oneshot",
    ),
    "docker.io/hashicorp/http-echo": Repo(
        _tags({"1.0": 3.3, "latest": 3.3, "0.2.3": 2.9}), ports=(5678,)
    ),
    "docker.io/kubelab/todo-ui": Repo(
        _tags({"1.0": 24.5, "1.1": 24.6, "latest": 24.6}),
        ports=(80,),
        paths=frozenset({"/", "/index.html", "/healthz"}),
    ),
    "docker.io/kubelab/todo-api": Repo(
        _tags({"1.0": 38.2, "1.1": 38.4, "latest": 38.4}),
        ports=(8080,),
        paths=frozenset({"/healthz", "/ready", "/api/todos"}),
    ),
    "docker.io/kubelab/crasher": Repo(_tags({"1.0": 4.1, "latest": 4.1}), kind="crash"),
    "registry.k8s.io/pause": Repo(_tags({"3.9": 0.3, "3.10": 0.3}), ports=()),
    "registry.k8s.io/e2e-test-images/agnhost": Repo(
        _tags({"2.52": 52.0, "2.53": 52.4}), ports=(8080,)
    ),
    "gcr.io/google-samples/gb-frontend": Repo(
        _tags({"v5": 109.0, "v6": 110.0}), ports=(80,), paths=_WEB
    ),
    "gcr.io/google-samples/hello-app": Repo(_tags({"1.0": 11.0, "2.0": 11.0}), ports=(8080,)),
    "us-docker.pkg.dev/google-samples/containers/gke/hello-app": Repo(
        _tags({"1.0": 11.0, "2.0": 11.0}), ports=(8080,)
    ),
}

_REF = re.compile(
    r"^(?:(?P<host>[a-z0-9]+(?:[.-][a-z0-9]+)*(?::[0-9]+)?)/)?"
    r"(?P<path>[a-z0-9]+(?:(?:[._]|__|-+)[a-z0-9]+)*(?:/[a-z0-9]+(?:(?:[._]|__|-+)[a-z0-9]+)*)*)"
    r"(?::(?P<tag>[\w][\w.-]{0,127}))?(?:@(?P<digest>sha256:[a-f0-9]{64}))?$"
)


class InvalidImageName(ValueError):
    pass


@dataclass(frozen=True)
class ImageRef:
    repository: str  # docker.io/library/nginx
    tag: str
    digest: str = ""

    @property
    def full(self) -> str:
        if self.digest:
            return f"{self.repository}@{self.digest}"
        return f"{self.repository}:{self.tag}"


def parse_image(image: str) -> ImageRef:
    """Normalise an image reference; ``InvalidImageName`` if it cannot be parsed."""
    m = _REF.match(image or "")
    if not m:
        raise InvalidImageName(f'couldn\'t parse image name "{image}": invalid reference format')
    host, path, tag, digest = m.group("host"), m.group("path"), m.group("tag"), m.group("digest")
    if host and "." not in host and ":" not in host and host != "localhost":
        path, host = f"{host}/{path}", None
    if not host or host in ("docker.io", "index.docker.io", "registry-1.docker.io"):
        host = "docker.io"
        if "/" not in path:
            path = f"library/{path}"
    return ImageRef(f"{host}/{path}", tag or ("" if digest else "latest"), digest or "")


@dataclass
class PullResult:
    ok: bool
    size: int = 0
    error: str = ""


def pull(ref: ImageRef) -> PullResult:
    """What pulling ``ref`` from the simulated registry gives (containerd's messages)."""
    repo = REPOS.get(ref.repository)
    if repo is None:
        return PullResult(
            False,
            error=(
                f'failed to pull and unpack image "{ref.full}": failed to resolve reference "{ref.full}": '
                "pull access denied, repository does not exist or may require authorization: "
                "server message: insufficient_scope: authorization failed"
            ),
        )
    if ref.digest:
        return PullResult(True, size=max(repo.tags.values()))
    if ref.tag not in repo.tags:
        return PullResult(
            False,
            error=(
                f'rpc error: code = NotFound desc = failed to pull and unpack image "{ref.full}": '
                f'failed to resolve reference "{ref.full}": {ref.full}: not found'
            ),
        )
    return PullResult(True, size=repo.tags[ref.tag])


def repo_of(ref: ImageRef) -> Repo | None:
    return REPOS.get(ref.repository)


@dataclass
class Behaviour:
    """What a container does once started."""

    serves: bool  # runs until stopped
    run_seconds: float = 0.0  # when not serving: time until it exits
    exit_code: int = 0
    ports: tuple[int, ...] = ()
    paths: frozenset[str] | None = None
    stop_seconds: float = 0.5
    log: str = ""
    extra: dict[str, object] = field(default_factory=dict)


_EXIT = re.compile(r"\bexit\s+(\d+)")
_SLEEP = re.compile(r"\bsleep\s+(\d+(?:\.\d+)?)")


def behaviour(container: dict[str, object]) -> Behaviour:
    """Decide what a container does from its image, command, args and env.

    A command or args containing ``exit N`` exit with N (after any ``sleep S`` before it);
    ``sleep infinity``, ``tail -f`` or ``while true`` run forever; ``sleep S`` alone exits 0
    after S seconds; ``false`` exits 1. Without a command the image's own entrypoint runs:
    servers serve, shells and language images exit 0 at once (so busybox with no command
    ends in CrashLoopBackOff, as on a real cluster), and postgres/mysql without their
    password variable exit 1.
    """
    try:
        ref = parse_image(str(container.get("image") or ""))
    except InvalidImageName:
        return Behaviour(serves=False, exit_code=1)
    repo = REPOS.get(ref.repository) or Repo({}, kind="server")
    argv = [str(x) for x in (container.get("command") or [])] + [
        str(x) for x in (container.get("args") or [])
    ]
    text = " ".join(argv)
    ignores_sigterm = bool(argv) and repo.kind != "server"
    stop = 30.0 if ignores_sigterm else repo.stop_seconds  # a shell as PID 1 ignores SIGTERM
    if argv:
        sleep = _SLEEP.search(text)
        pre = float(sleep.group(1)) if sleep else 0.0
        m = _EXIT.search(text)
        if m:
            return Behaviour(
                False, run_seconds=max(pre, 0.2), exit_code=int(m.group(1)), stop_seconds=stop
            )
        if re.search(r"sleep\s+infinity|tail\s+-f|while\s+true|while\s+:", text):
            return Behaviour(True, ports=(), paths=frozenset(), stop_seconds=stop)
        if sleep:
            return Behaviour(False, run_seconds=pre, exit_code=0, stop_seconds=stop)
        if re.fullmatch(r"(/bin/)?false", text.strip()):
            return Behaviour(False, run_seconds=0.2, exit_code=1, stop_seconds=stop)
        if repo.kind != "server":
            return Behaviour(False, run_seconds=0.3, exit_code=0, stop_seconds=stop)
    if repo.kind == "crash":
        return Behaviour(False, run_seconds=0.5, exit_code=1, log="panic: simulated crash")
    if repo.kind == "oneshot":
        return Behaviour(False, run_seconds=0.2, exit_code=0, stop_seconds=stop)
    if repo.requires_env is not None:
        names, message = repo.requires_env
        env = {e.get("name") for e in container.get("env") or [] if isinstance(e, dict)}  # type: ignore[union-attr]
        if not env.intersection(names):
            return Behaviour(False, run_seconds=0.8, exit_code=1, log=message)
    return Behaviour(True, ports=repo.ports, paths=repo.paths, stop_seconds=stop)


_normal_cache: dict[str, str] = {}


def normalized(image: str) -> str:
    """The normalised reference of an image string (the string itself if it cannot be parsed)."""
    got = _normal_cache.get(image)
    if got is None:
        try:
            got = parse_image(image).full
        except InvalidImageName:
            got = image
        if len(_normal_cache) < 10000:
            _normal_cache[image] = got
    return got
