"""The functional core: plain-data analysis bundle and pure functions over it (no Meridian here)."""
