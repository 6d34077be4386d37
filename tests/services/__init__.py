"""Real backing services for tests: PostgreSQL, RabbitMQ, Redis on this machine; SeaweedFS as our S3."""
