"""The labs' engines: the optimizer lab (expressions, functions, paths) and the book's experiments (registry)."""
