"""Plotly figure builders: pure functions from bundle data to figures, one shared template."""
