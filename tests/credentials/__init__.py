"""Tests of the credential store (joyctl.credentials)."""
