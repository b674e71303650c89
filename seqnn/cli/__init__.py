"""Console commands: ``seqnn-train`` (:mod:`.train`) and ``seqnn-predict`` (:mod:`.predict`).

Both are declared as console scripts in ``setup.cfg`` and also run as
``python -m seqnn.cli.train`` / ``python -m seqnn.cli.predict``.
"""
