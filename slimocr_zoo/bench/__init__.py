"""python -m slimocr_zoo.bench: per-model and end-to-end OCR latency into one results format.

``--device cpu`` times this machine through the Python runtimes (host.py); an adb profile such
as ``--device sd855`` times Paddle Lite's benchmark_bin on a phone (phone.py).
"""
from ..devices import device, devices  # noqa: F401  (the profiles live with the devices)
