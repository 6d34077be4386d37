"""The ``meterverify`` command, and where the whole service is assembled (``app``: the API with the review UI)
and seeded for a demo (``demo``). The top of the import graph: no package imports it."""
