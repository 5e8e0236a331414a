"""The deployment files agree with the app they ship: the same pins, the same health path,
and the settings a Streamlit replica behind a proxy needs. (They run for real, with Debian's
nginx, in tests/e2e/test_replicas.py; Docker and Kubernetes cannot run here.)"""

from __future__ import annotations

import re
import tomllib
from pathlib import Path

ROOT = Path(__file__).resolve().parents[2]
DOCKERFILE = (ROOT / "Dockerfile").read_text(encoding="utf-8")
NGINX = (ROOT / "deploy" / "nginx.conf").read_text(encoding="utf-8")
KUBERNETES = (ROOT / "deploy" / "kubernetes.yaml").read_text(encoding="utf-8")
COMPOSE = (ROOT / "deploy" / "compose.yaml").read_text(encoding="utf-8")


def pins() -> dict[str, str]:
    lines = (ROOT / "requirements.txt").read_text(encoding="utf-8").splitlines()
    return dict(line.split("==") for line in lines if "==" in line and not line.startswith("#"))


def test_the_image_is_python_3_11_slim_with_the_pinned_cpu_torch_as_a_user_not_root():
    assert re.search(r"^FROM python:3\.11-slim$", DOCKERFILE, re.MULTILINE)
    torch = pins()["torch"]
    assert f"--index-url https://download.pytorch.org/whl/cpu torch=={torch}" in DOCKERFILE
    assert "pip install -r requirements.txt" in DOCKERFILE
    users = re.findall(r"^USER (\S+)$", DOCKERFILE, re.MULTILINE)
    assert users and users[-1] not in ("root", "0")
    assert "HEALTHCHECK" in DOCKERFILE and "/_stcore/health" in DOCKERFILE
    assert re.search(r'^CMD \["python", "-m", "streamlit", "run", "app.py"\]$', DOCKERFILE, re.MULTILINE)


def test_nginx_keeps_a_browser_on_one_replica_and_lets_websockets_and_large_uploads_through():
    assert re.search(r"hash \$cnnviz_route consistent;", NGINX)
    assert "location /_stcore/stream" in NGINX and 'proxy_set_header Connection "upgrade";' in NGINX
    size = re.search(r"client_max_body_size (\d+)m;", NGINX)
    assert size and int(size.group(1)) >= 600  # ImageNet weight files
    config = tomllib.loads((ROOT / ".streamlit" / "config.toml").read_text(encoding="utf-8"))
    assert int(size.group(1)) >= config["server"]["maxUploadSize"]
    read_timeout = re.search(r"proxy_read_timeout (\d+)s;", NGINX)
    assert read_timeout and int(read_timeout.group(1)) >= 3600  # a lesson's websocket outlives nginx's 60 s default


def test_compose_and_kubernetes_pin_sessions_and_check_health():
    assert "./nginx.conf:/etc/nginx/nginx.conf" in COMPOSE and "replicas: ${REPLICAS:-3}" in COMPOSE
    for kind in ("kind: Deployment", "kind: Service", "kind: Ingress"):
        assert kind in KUBERNETES
    assert "sessionAffinity: ClientIP" in KUBERNETES
    assert "nginx.ingress.kubernetes.io/affinity: cookie" in KUBERNETES
    assert "nginx.ingress.kubernetes.io/proxy-body-size: 700m" in KUBERNETES
    assert KUBERNETES.count("path: /_stcore/health") == 3  # startup, readiness, liveness


def test_every_way_of_starting_the_server_caps_the_allocators_arenas():
    """glibc gives each thread that allocates at once an arena of its own (up to 8 per core) and
    keeps what it freed: 5 sessions rerunning together left the soak's server ~40 MB larger for
    good (bench/RESULTS.md). ``MALLOC_ARENA_MAX=2`` is read when the process starts, so it is set
    where the process is started: the image (compose and Kubernetes run it), ``make run``, and the
    servers the tests and benchmarks start."""
    from tests.e2e import harness

    assert re.search(r"^\s+MALLOC_ARENA_MAX=2 \\$", DOCKERFILE, re.MULTILINE)
    makefile = (ROOT / "Makefile").read_text(encoding="utf-8")
    assert re.search(
        r"^run: .*\n\tMALLOC_ARENA_MAX=2 \$\(BIN\)/python -m streamlit run app.py$", makefile, re.MULTILINE
    )
    assert harness.server_environment({})["MALLOC_ARENA_MAX"] == "2"
    # A benchmark may try another value.
    assert harness.server_environment({"MALLOC_ARENA_MAX": "8"})["MALLOC_ARENA_MAX"] == "8"
    assert "`MALLOC_ARENA_MAX`" in (ROOT / "README.md").read_text(encoding="utf-8")
