"""Model file -> analysis bundle: storage, build state and build orchestration.

Only `builder.meridian` imports Meridian; the catalog and the build runner do not, so the web
process can ask for a model's state and request a build without loading TensorFlow.
"""
