"""Running training: the trainer, the worker-process protocol, the helper process, threads, memory, snapshots."""
