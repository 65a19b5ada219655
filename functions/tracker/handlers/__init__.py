"""The Lambda entry points, one module per function.

Cold start: in Lambda (``LAMBDA_TASK_ROOT`` set) the cyclic garbage collector is off while a handler
module loads, and the module's last statement, :func:`cold_start_done`, moves everything the import
built into the collector's permanent generation (``gc.freeze``) and turns the collector back on.
Modules, classes, pydantic's validators and botocore's models live as long as the process, and of
the ~90,000 objects the ingest handler's import leaves, a full collection finds ~700 unreachable
(~180 KB, kept now). Collecting during the import scanned them all for nothing (a full
collection takes ~30 ms of CPU at that size, and the import triggered one), and so would every
later full collection: frozen, they are never scanned again, so the work is not moved to the first
invocation but dropped (README, "Goals we miss": import + first batch measured before and after).
Elsewhere (tests, local mode) nothing changes.
"""

import gc
import os

_COLD_START = bool(os.environ.get("LAMBDA_TASK_ROOT")) and gc.isenabled()
if _COLD_START:
    gc.disable()


def cold_start_done() -> None:
    """The end of a handler module's import: freeze what it built, collect garbage again."""
    global _COLD_START
    if _COLD_START:
        _COLD_START = False
        gc.freeze()
        gc.enable()
