"""The live clearance engine (issue 4, part B): the SimPy model on a virtual clock, fed with
clearance-ready declarations from the database, writing every transition as a receipt.

See ``docs/live-clearance.md`` for how the clock works, the receipt sequences per branch and how
integrators force outcomes.
"""

from app.engine.config import EngineSettings
from app.engine.engine import ClearanceEngine

__all__ = ["ClearanceEngine", "EngineSettings"]
