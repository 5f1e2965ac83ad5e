"""See inside while it learns: every unit's output over the plane, a CNN's channels for one input."""
