"""Accounts: users and roles, password policy, sign-in limits, login/register/logout routes."""
