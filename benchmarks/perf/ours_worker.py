"""One of our pipelines in a process of its own, as a user's would run: argv[1] is the JSON of
(runtime, {stage: [model, precision]}), argv[2] the threads; then one image path per stdin line ->
one JSON line of timings. Each pipeline alone in its process: oneDNN's primitive cache is the
process's, and pipelines sharing one process evicted each other's (see e2e.py)."""
import json
import sys
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent))
from e2e import ours  # noqa: E402


def main() -> int:
    runtime, stages = json.loads(sys.argv[1])
    from slimocr_zoo import ZooError

    try:
        pipe = ours((runtime, {k: tuple(v) for k, v in stages.items()}), int(sys.argv[2]))
    except ZooError as e:  # e.g. the int8 models not built here: said, the run goes on without it
        print(json.dumps({"error": str(e).splitlines()[0]}), flush=True)
        return 0
    print(json.dumps({"ready": True}), flush=True)
    for line in sys.stdin:
        path = line.strip()
        if not path:
            break
        res = pipe(path)
        print(json.dumps({"total_ms": res.timings["total"], "boxes": res.boxes_found,
                          **{f"{k}_ms": v for k, v in res.timings.items() if k != "total"}}), flush=True)
    return 0


if __name__ == "__main__":
    sys.exit(main())
