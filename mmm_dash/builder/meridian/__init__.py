"""The only package that imports Meridian (and so TensorFlow and JAX): simulate, fit, load, analyse."""

import os

# TensorFlow's C++ start-up chatter is noise for operators; real errors still surface as exceptions.
os.environ.setdefault("TF_CPP_MIN_LOG_LEVEL", "2")
