"""The network's mathematics: layers, losses, initializers, optimizers and schedules, the network, gradient checks."""
