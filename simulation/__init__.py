"""The clearance model: SimPy stages and resources, shifts, risk, e-lock transit, statistics."""
