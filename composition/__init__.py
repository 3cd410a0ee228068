"""Where every service graph is built: one module per deployment.

- `aws`: DynamoDB, S3, SNS, SQS and SES adapters, as the Lambda functions run them (and the local stack, against
  the emulator).
- `memory`: the same graphs over in-memory stores, for tests and benchmarks without DynamoDB.
- `ProcessDefault`: the graph a Lambda entry point uses, built lazily on first use, once per cold start.

Handlers take their services; nothing else assembles a store, an archive or the purchase saga.
"""

from __future__ import annotations

from collections.abc import Callable
from threading import Lock
from typing import Generic, TypeVar

_Graph = TypeVar("_Graph")


class ProcessDefault(Generic[_Graph]):
    """A service graph built on first use and kept for the process (a Lambda container: one cold start).

    Lazy, so that importing a handler costs no client and no connection. The local stack and the tests `install`
    the graph they built (a local stack's, one over moto); `reset` forgets it, so the next use builds afresh.
    """

    def __init__(self, build: Callable[[], _Graph]) -> None:
        self._build = build
        self._graph: _Graph | None = None
        self._lock = Lock()

    def __call__(self) -> _Graph:
        graph = self._graph
        if graph is None:
            # The local stack's pollers are threads: the first two to ask must not build two graphs.
            with self._lock:
                if self._graph is None:
                    self._graph = self._build()
                graph = self._graph
        return graph

    def install(self, graph: _Graph) -> None:
        self._graph = graph

    def reset(self) -> None:
        self._graph = None
