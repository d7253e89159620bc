"""The benchmark: per-model and end-to-end OCR latency into one results format (results.py).

``runner.run`` picks the device profile and images; ``host.py`` times this machine through the
Python runtimes; an adb profile such as ``sd855`` times Paddle Lite's benchmark_bin on a phone
(``phone.py``, ``litebench.py``); ``stats.py`` summarizes samples.
"""
