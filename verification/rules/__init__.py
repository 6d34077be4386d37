"""The rules, one small module per concern. Each returns ``Finding``s (empty when all is well)."""
