"""Alembic environment: runs against the engine handed over by ``serving.database.upgrade``."""

from alembic import context

from serving.tables import Base

config = context.config
engine = config.attributes.get("engine")
if engine is None:  # the plain alembic command line: the URL comes from the settings
    from serving.config import get_settings
    from serving.database import make_engine

    engine = make_engine(get_settings().sqlalchemy_url)

with engine.begin() as connection:
    context.configure(
        connection=connection,
        target_metadata=Base.metadata,
        render_as_batch=connection.dialect.name == "sqlite",  # SQLite alters tables by copying them
        compare_type=True,
    )
    context.run_migrations()
