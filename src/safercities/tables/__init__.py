"""The tables of each module, merged into :data:`safercities.schema.TABLES`."""
