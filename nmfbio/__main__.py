"""``python -m nmfbio``: the same command line as the ``nmfbio`` script."""

from nmfbio.cli import main

if __name__ == "__main__":
    raise SystemExit(main())
