"""How much one student's work may cost this server, read once from the environment.

A classroom shares one server: these limits keep one student's network from taking the
memory or the cores of everyone else. Each is an environment variable; the defaults suit a
2-core, 4 GB server (see README.md, "Limits").

============================  ==============  =========================================
variable                      default         what it bounds
============================  ==============  =========================================
``CNNVIZ_MAX_PARAMS``         5,000,000       learnable parameters of a Training-page network
``CNNVIZ_MAX_ACTIVATION_MB``  200             activation memory of one training batch (MB)
``CNNVIZ_MAX_MACS``           4,000,000,000   multiply-adds of one training step (forward + backward)
``CNNVIZ_HEAVY_JOBS``         cores - 1 (>=1) heavy jobs running at once; the others wait in line
``CNNVIZ_KEPT_RUNS``          6               training runs a session keeps (and runs waiting to start)
============================  ==============  =========================================
"""

from __future__ import annotations

import os
from collections.abc import Mapping
from dataclasses import dataclass, fields

#: Field name -> the environment variable that sets it.
ENVIRONMENT_VARIABLES: dict[str, str] = {
    "max_params": "CNNVIZ_MAX_PARAMS",
    "max_activation_mb": "CNNVIZ_MAX_ACTIVATION_MB",
    "max_macs": "CNNVIZ_MAX_MACS",
    "heavy_jobs": "CNNVIZ_HEAVY_JOBS",
    "kept_runs": "CNNVIZ_KEPT_RUNS",
}


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
    """The server's limits on one student's work.

    Attributes:
        max_params: learnable parameters a network built on the Training page may hold
            (5 million float32 weights, with Adam's two moments and the gradient: ~80 MB).
        max_activation_mb: megabytes (10**6 bytes) of layer outputs one training batch may
            keep for the backward pass.
        max_macs: multiply-adds of one training step (the whole batch, forward and
            backward): one step cannot be interrupted, so this bounds how long a student
            holds a core (4 billion is about a second of one core).
        heavy_jobs: heavy jobs (training slices, filter optimisation, galleries, ImageNet
            forward passes, attribution maps) running at once on this server; the others
            wait in line (``cnnviz.heavy_jobs``).
        kept_runs: training runs one session keeps (curves and weights; the oldest finished
            run goes first), and runs it may line up to start: at most 5 million parameters
            each, 6 runs are at most ~120 MB of weights per student.
    """

    max_params: int = 5_000_000
    max_activation_mb: int = 200
    max_macs: int = 4_000_000_000
    heavy_jobs: int = default_heavy_jobs()
    kept_runs: int = 6

    def __post_init__(self) -> None:
        if self.heavy_jobs < 1:
            raise ValueError(f"At least one heavy job must be allowed at once, not {self.heavy_jobs}.")
        for field in fields(self):
            if getattr(self, field.name) < 1:
                raise ValueError(f"{ENVIRONMENT_VARIABLES[field.name]} must be a whole number of at least 1.")

    @classmethod
    def from_environment(cls, environ: Mapping[str, str] | None = None) -> Limits:
        """The limits set by ``CNNVIZ_*`` variables (``ENVIRONMENT_VARIABLES``), defaults for the rest.

        Args:
            environ: the variables to read; ``os.environ`` when None.

        Raises:
            ValueError: naming the variable whose value is not a whole number of at least 1.
        """
        environ = os.environ if environ is None else environ
        values = {}
        for field in fields(cls):
            name = ENVIRONMENT_VARIABLES[field.name]
            text = environ.get(name, "").strip().replace("_", "")
            if not text:
                continue
            if not text.isdigit():
                raise ValueError(f"{name} must be a whole number of at least 1, not {environ[name]!r}.")
            values[field.name] = int(text)
        return cls(**values)
