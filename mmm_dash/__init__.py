"""mmm-dash: read what a fitted Google Meridian media-mix model says about your channels."""

from mmm_dash.app_factory import create_app

__all__ = ["create_app"]
