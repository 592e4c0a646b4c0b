"""The functional core: the plain-data analysis bundle and pure functions over it.

No Flask, Dash, SQLAlchemy, Meridian, TensorFlow or JAX import belongs here (tests enforce it).
"""
