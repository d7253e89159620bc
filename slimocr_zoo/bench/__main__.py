"""python -m slimocr_zoo.bench ...  is  slimocr-zoo bench ...  (an entry point: the CLI layer)."""
import sys

from ..cli import main

if __name__ == "__main__":
    sys.exit(main(["bench", *sys.argv[1:]], prog="python -m slimocr_zoo.bench"))
