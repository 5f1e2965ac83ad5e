"""The optimizer lab's engine: 2-D test functions, the expression parser, optimizer paths."""
