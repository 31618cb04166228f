"""Profiles and settings: `joyctl profiles` (`profiles.py`) and `joyctl config` (`config.py`)."""
