"""Benchmark (filled in below)."""

COMMANDS = []
