"""What this server allows, from the environment: limits that keep a classroom's shared server alive.

Every limit has a default that suits a 2-core, 4 GB server and an environment variable
that changes it (documented in the README).
"""

from __future__ import annotations

import os
from collections.abc import Mapping
from dataclasses import dataclass


def default_heavy_jobs(cores: int | None = None) -> int:
    """Heavy jobs at once by default: one core is kept free for the light lessons' reruns
    (a slider must answer at once), the others each run one job; at least one.

    Args:
        cores: the machine's cores; None: ``os.cpu_count()``.
    """
    cores = cores if cores is not None else os.cpu_count() or 1
    return max(1, cores - 1)


@dataclass(frozen=True)
class Limits:
    """The server's limits.

    Attributes:
        heavy_jobs: heavy jobs (training slices, filter optimisation, galleries, ImageNet
            forward passes, attribution maps) running at once on this server; the others
            wait in line (``cnnviz.heavy_jobs``). Environment: ``CNNVIZ_HEAVY_JOBS``.
    """

    heavy_jobs: int = default_heavy_jobs()

    def __post_init__(self) -> None:
        if self.heavy_jobs < 1:
            raise ValueError(f"At least one heavy job must be allowed at once, not {self.heavy_jobs}.")

    @classmethod
    def from_environment(cls, environ: Mapping[str, str] | None = None) -> Limits:
        """The limits, with each one set in the environment replacing its default.

        Raises:
            ValueError: for a value that is not a whole number, or out of range.
        """
        environ = os.environ if environ is None else environ
        settings: dict[str, int] = {}
        for name, variable in (("heavy_jobs", "CNNVIZ_HEAVY_JOBS"),):
            text = environ.get(variable, "").strip()
            if text:
                try:
                    settings[name] = int(text)
                except ValueError:
                    raise ValueError(f"{variable} must be a whole number, not {text!r}.") from None
        return cls(**settings)
