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
    """How ``make test`` (``pytest -n``) shares the suite between processes: each test module goes whole
    to one process, in file order, as in a run without xdist (its tests may share one AppTest session,
    a server in a network namespace, a proxy's replicas or a pool of training workers, made once in a
    module fixture); the next module goes to the first process that is free."""
    from xdist.scheduler import LoadScopeScheduling

    class WholeModules(LoadScopeScheduling):
        def _split_scope(self, nodeid: str) -> str:
            module = nodeid.split("::", 1)[0]
            return "fresh servers" if module in FRESH_SERVER_MODULES else module

    # Collection order (tests/app, tests/e2e, then the engine's many short modules, which even out the end),
    # not xdist's default of the modules with the most tests first.
    config.option.loadscopereorder = False
    return WholeModules(config, log)
