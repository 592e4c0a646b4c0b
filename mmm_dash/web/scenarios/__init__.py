"""Saved budget scenarios, per user."""
