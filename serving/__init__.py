"""The service: the API, intake, the pipeline that reads and decides, workers, delivery to billing, the
draw's state; settings in ``config``. Imports ``vision``, ``verification``, ``draw``, never the UI or the CLI."""
