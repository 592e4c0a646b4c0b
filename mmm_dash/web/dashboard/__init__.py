"""The Dash side: shell (navbar, controls, build polling), view resolution and components."""
