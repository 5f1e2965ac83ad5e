"""The optimizer lab tab: optimizers racing across a 2-D function."""
