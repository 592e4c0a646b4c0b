"""The web shell: Flask app factory, guard, accounts, Dash pages, exports, templates and assets."""

from mmm_dash.web.app_factory import create_app

__all__ = ["create_app"]
