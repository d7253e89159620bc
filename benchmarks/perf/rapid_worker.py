"""Runs inside .venv-rapid (RapidOCR 1.4.4): one image path per stdin line -> one JSON line of timings."""
import json
import sys
import time

threads = int(sys.argv[1])
from rapidocr_onnxruntime import RapidOCR  # noqa: E402

# per model: RapidOCR's global thread settings do not reach the Det/Cls/Rec sessions once loaded
engine = RapidOCR(**{f"{m}_{k}": v for m in ("det", "cls", "rec")
                     for k, v in (("intra_op_num_threads", threads), ("inter_op_num_threads", 1))})
print(json.dumps({"ready": True}), flush=True)
for line in sys.stdin:
    path = line.strip()
    if not path:
        break
    t = time.perf_counter()
    result, elapse = engine(path)
    total = (time.perf_counter() - t) * 1e3
    det, cls, rec = (list(elapse) + [0, 0, 0])[:3] if elapse else (0, 0, 0)
    print(json.dumps({"total_ms": total, "det_ms": det * 1e3, "cls_ms": cls * 1e3, "rec_ms": rec * 1e3,
                      "boxes": len(result or [])}), flush=True)
