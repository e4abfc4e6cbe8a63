"""`python -m hardstart`."""

from hardstart.cli import main

if __name__ == "__main__":
    main()
