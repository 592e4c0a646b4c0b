"""Dash pages, one module per page (Dash `pages/` convention), shipped inside the package."""
