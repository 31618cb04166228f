"""Allow `python -m joyctl`."""

from joyctl.cli import main

if __name__ == "__main__":
    main()
