"""What the tests need beyond pytest: real servers and browsers, installed from Debian's
packages when missing (conftest puts ``tests/`` on ``sys.path`` so this imports)."""
