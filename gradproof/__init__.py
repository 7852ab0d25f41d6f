"""The ``gradproof`` command line: one module per subcommand, above every other layer.

``autodiff`` (the engine) -> ``verification`` (proofs, campaigns, engine
adapters) -> ``reports`` (tables and plots) -> ``gradproof``; ``runstore``
(what a run writes) lies below ``verification`` and ``reports``. Importing
this package imports no subcommand: ``gradproof --help`` stays instant.
"""
