"""gradproof's reports: campaign records as pandas DataFrames, tables and plots."""

__all__: list[str] = []
