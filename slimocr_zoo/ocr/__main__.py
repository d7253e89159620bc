"""python -m slimocr_zoo.ocr ...  is  slimocr-zoo ocr ...  (an entry point: the CLI layer)."""
import sys

from ..cli import main

if __name__ == "__main__":
    sys.exit(main(["ocr", *sys.argv[1:]], prog="python -m slimocr_zoo.ocr"))
