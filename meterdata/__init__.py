"""Datasets for meterverify: the manifest format, the synthetic photo generator, contact sheets."""
