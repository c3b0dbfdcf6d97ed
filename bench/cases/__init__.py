"""One module per benchmark case; ``bench.harness.REGISTRY`` names them.

A case module defines, at module level (and imports its heavy libraries inside functions, so that
a cold child times their import):

* ``ID``, ``TITLE``, ``GOAL`` (ratio, warm), ``PEER`` (what we are compared with);
* ``skip_reason() -> str | None``: why the case cannot run here (e.g. a module not written yet);
* ``params(size) -> list[dict]``: the workloads at size S, M or L (JSON-able);
* ``prepare(size, param) -> bench.harness.Prepared``: inputs built, ``ours``/``peer`` callables, ``check``;
* ``cold_import(side)``, ``cold_inputs(param)``, ``cold_call(side, inputs, param)``: the cold run.
"""
