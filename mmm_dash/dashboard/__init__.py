"""The Dash side: shell (navbar, controls, background jobs), view resolution and components."""
