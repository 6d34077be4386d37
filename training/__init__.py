"""Training and export of the models ``vision`` serves (torch, the ``train`` extra): datasets, models, the
references-style scripts, the MLflow registry and promotion gate, the easyocr bundle."""
