"""Other OCR engines, read on the same strips as meterverify's reader, for comparison."""
