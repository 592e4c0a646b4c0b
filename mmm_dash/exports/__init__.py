"""Downloads of insights, metrics and a self-contained report (formats are pure functions)."""
