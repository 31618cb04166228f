"""Use cases: each function does one job for one command and returns a pydantic model.

Services never import Typer or Rich and never print; they raise JoyctlError subclasses.
"""
