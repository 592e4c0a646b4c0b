"""The load benchmark (`python -m mmm_dash loadtest`): simulated analysts, driven by Locust in a
process of its own, against web replicas on loopback. Importing this package imports nothing."""
