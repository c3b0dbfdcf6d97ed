"""The local safety audit: indicator framework, composite index, community selection, fieldwork, priorities."""
