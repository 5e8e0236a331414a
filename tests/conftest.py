"""Shared test settings: the repository root is importable, torch is deterministic."""

import os
import sys
from pathlib import Path

import pytest
import torch

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

if os.environ.get("PYTEST_XDIST_WORKER"):
    # One of several test processes sharing the machine's cores (``make test`` runs pytest-xdist):
    # a second torch thread per process would only wait for a core that another process holds.
    torch.set_num_threads(1)


@pytest.fixture(autouse=True)
def _seeded():
    torch.manual_seed(0)


#: Browser tests whose servers start cold and serve every page at once: one after the other, in one
#: process, so two such cold starts never share the machine.
FRESH_SERVER_MODULES = {"tests/e2e/test_first_visit.py", "tests/e2e/test_offline.py"}


@pytest.hookimpl(optionalhook=True)
def pytest_xdist_make_scheduler(config: pytest.Config, log):
    """How ``make test`` (``pytest -n``) shares the suite between processes: each page and browser test
    module goes whole to one process, in file order, as in a run without xdist (its tests may share
    one AppTest session, a server in a network namespace or a proxy's replicas, made once in a module
    fixture); the engine's tests, pure functions of their arguments, go one by one to whichever
    process is free, so the processes finish together."""
    from xdist.scheduler import LoadScopeScheduling

    class WholeModulesThenSingleEngineTests(LoadScopeScheduling):
        def _split_scope(self, nodeid: str) -> str:
            module = nodeid.split("::", 1)[0]
            if module in FRESH_SERVER_MODULES:
                return "fresh servers"
            return nodeid if module.startswith("tests/engine/") else module

    config.option.loadscopereorder = False  # collection order: pages and browsers first, the engine last
    return WholeModulesThenSingleEngineTests(config, log)
