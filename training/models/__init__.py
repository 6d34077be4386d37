"""Model architectures, one file each. Each file imports only torch, so it can be shipped on its own."""
