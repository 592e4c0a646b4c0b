"""mmm-dash: read what a fitted Google Meridian media-mix model says about your channels.

Three layers, each importable on its own:

- `mmm_dash.core`: the analysis bundle and pure functions over it (insights, scenario planner and
  optimizer, tables, export documents, figure builders). No Flask, Dash, SQLAlchemy or Meridian.
- `mmm_dash.builder`: turns a Meridian model file into a bundle, stores it and runs builds. The only
  package that imports Meridian (and so TensorFlow and JAX), and only inside `builder.meridian`.
- `mmm_dash.web`: the Flask/Dash app (factory, guard, accounts, pages, exports, templates, assets,
  migrations). It asks the builder for a model's state and polls; it never imports Meridian.

Nothing is imported here, so `import mmm_dash.core.scenario` loads no web framework.
"""
