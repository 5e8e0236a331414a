"""Two replicas behind nginx with the shipped ``deploy/nginx.conf``: a school's set-up, in small.

Checks what a reverse proxy must get right for Streamlit: the health check answers
through it, a session's websocket works through it, one browser (its route cookie) always
reaches the same replica (a session, its uploads and media live on one replica), a browser
without the cookie gets one, and when a student's replica dies, the reconnect lands on the
other replica and gets a working page. The load, the upload and the timings are in
``bench/replicas.py``.
"""

from __future__ import annotations

import asyncio
import random
from collections.abc import Iterator

import pytest

from tests.e2e import proxy

pytestmark = pytest.mark.e2e


@pytest.fixture(scope="module")
def cluster() -> Iterator[proxy.Cluster]:
    if not proxy.nginx_available():
        pytest.skip(f"{proxy.NGINX} is missing: `make test` installs Debian's nginx")
    with proxy.cluster(2) as running:
        yield running


def routes_on_each_replica(cluster: proxy.Cluster) -> dict[int, str]:
    """A route cookie for each replica (random cookies until both replicas have one)."""
    found: dict[int, str] = {}
    for _ in range(200):
        route = proxy.new_route()
        found.setdefault(cluster.replica_of(route), route)
        if len(found) == len(cluster.replicas):
            return found
    raise AssertionError(f"200 cookies all went to replicas {sorted(found)}: the proxy does not spread sessions")


def test_health_answers_through_the_proxy_and_a_new_browser_gets_its_cookie(cluster: proxy.Cluster):
    status, body, headers = cluster.get("/_stcore/health")
    assert (status, body.strip()) == (200, b"ok")
    cookie = headers.get("Set-Cookie", "")
    assert cookie.startswith(f"{proxy.ROUTE_COOKIE}=") and "HttpOnly" in cookie, headers
    _, _, again = cluster.get("/_stcore/health", route=proxy.new_route())
    assert "Set-Cookie" not in again, "a browser that has its cookie must keep it"


def test_one_browser_always_reaches_the_same_replica(cluster: proxy.Cluster):
    routes = routes_on_each_replica(cluster)
    for index, route in routes.items():
        for _ in range(10):
            cluster.get("/_stcore/health", route)
        assert set(cluster.served_by(route)) == {cluster.replicas[index].port}, route


def test_a_session_works_through_the_proxy_on_its_cookies_replica(cluster: proxy.Cluster):
    route = routes_on_each_replica(cluster)[1]

    async def visit() -> list:
        session = await proxy.open_session(cluster.url, route)
        try:
            results = [await session.goto("convolution")]
            moved = await session.move_random_slider(random.Random(0))
            return [*results, moved]
        finally:
            await session.close()

    results = proxy.run_in_own_loop(visit())
    assert results[1] is not None, "the convolution lesson showed no slider through the proxy"
    assert [(result.ok, result.errors) for result in results] == [(True, [])] * 2, results
    assert results[0].messages > 5, "the page sent almost nothing"
    assert set(cluster.served_by(route, settle=True)) == {cluster.replicas[1].port}, "the websocket went to another replica"


def test_when_a_replica_dies_its_students_reconnect_to_the_other(cluster: proxy.Cluster):
    """Runs last: it kills replica 0."""
    routes = routes_on_each_replica(cluster)
    doomed, survivor = routes[0], routes[1]

    async def class_loses_a_replica() -> dict[str, list]:
        on_doomed = await proxy.open_session(cluster.url, doomed)
        on_survivor = await proxy.open_session(cluster.url, survivor)
        try:
            before = [await on_doomed.goto("pooling"), await on_survivor.goto("pooling")]
            cluster.kill(0)
            during = [await on_doomed.goto("pooling"), await on_survivor.goto("pooling")]
            reconnected = await proxy.open_session(cluster.url, doomed)  # what the browser does
            try:
                after = [await reconnected.goto("pooling")]
            finally:
                await reconnected.close()
            return {"before": before, "during": during, "after": after}
        finally:
            await asyncio.gather(on_doomed.close(), on_survivor.close(), return_exceptions=True)

    runs = proxy.run_in_own_loop(class_loses_a_replica())
    statuses = {moment: [result.status for result in results] for moment, results in runs.items()}
    assert statuses == {
        "before": ["FINISHED_SUCCESSFULLY"] * 2,
        "during": ["closed", "FINISHED_SUCCESSFULLY"],  # the dead replica's session is gone, the other one is not
        "after": ["FINISHED_SUCCESSFULLY"],
    }, runs
    assert runs["after"][0].errors == [] and runs["after"][0].sliders, "the page after the reconnect is not working"
    assert cluster.served_by(doomed, settle=True)[-1] == cluster.replicas[1].port, "the reconnect did not reach the live replica"
    status, body, _ = cluster.get("/_stcore/health", doomed)
    assert (status, body.strip()) == (200, b"ok")
