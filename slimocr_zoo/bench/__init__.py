"""python -m slimocr_zoo.bench: per-model and end-to-end OCR latency into one results format.

``--device cpu`` times this machine through the Python runtimes (host.py); an adb profile such
as ``--device sd855`` times Paddle Lite's benchmark_bin on a phone (phone.py).
"""


def brief(reason: str, n: int = 120) -> str:
    """A skip/failure reason for a table cell: without the loader's list of what the model does have."""
    return reason.split(" (it has")[0][:n]
