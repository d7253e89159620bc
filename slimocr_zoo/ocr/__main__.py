"""python -m slimocr_zoo.ocr IMAGE... [--config N | --det ID --rec ID] [--cls ID] [--json] [--draw OUT.png]"""
from __future__ import annotations

import argparse
import json
import sys
from pathlib import Path


def main(argv=None) -> int:
    from ..errors import guarded

    p = argparse.ArgumentParser(prog="python -m slimocr_zoo.ocr", description="End-to-end OCR of images with zoo models.")
    p.add_argument("images", nargs="+", type=Path)
    p.add_argument("--config", type=int, help="a seed configuration (0-3); else --det/--rec")
    p.add_argument("--det", default=None, help="detector id (default ch_PP-OCRv4_det)")
    p.add_argument("--rec", default=None, help="recognizer id (default ch_PP-OCRv4_rec)")
    p.add_argument("--cls", default=None, help="direction classifier id (default: none)")
    p.add_argument("--runtime", default="paddle", choices=["paddle", "lite"])
    p.add_argument("--threads", type=int, default=None)
    p.add_argument("--precision", default="fp32", choices=["fp32", "bf16"],
                   help="bf16: Paddle Inference's oneDNN bfloat16 (CPUs with AVX512-BF16/AMX)")
    p.add_argument("--drop-score", type=float, default=0.5)
    p.add_argument("--mirror", action="append", default=[])
    p.add_argument("--offline", action="store_true", default=None)
    p.add_argument("--json", action="store_true", help="one JSON object per image")
    p.add_argument("--draw", type=Path, help="write the image with its boxes (IMAGE stem appended with several images)")
    args = p.parse_args(argv)
    from .system import OCR, draw

    def body():
        det = args.det or (None if args.config is not None else "ch_PP-OCRv4_det")
        rec = args.rec or (None if args.config is not None else "ch_PP-OCRv4_rec")
        ocr = OCR.create(config=args.config, det=det, rec=rec, cls=args.cls, runtime=args.runtime,
                         threads=args.threads, drop_score=args.drop_score, mirror=args.mirror, offline=args.offline,
                         precision=args.precision)
        for img in args.images:
            res = ocr(img)
            if args.json:
                print(json.dumps({"image": str(img), "models": ocr.ids, "runtime": args.runtime, **res.to_dict()},
                                 ensure_ascii=False))
            else:
                t = res.timings
                print(f"{img}: {len(res.lines)} lines ({res.boxes_found} boxes) in {t['total']:.1f} ms "
                      f"[det {t['det']:.1f}, rec {t.get('rec', 0):.1f}, cls {t.get('cls', 0):.1f}]")
                for ln in res.lines:
                    box = " ".join(f"{int(x)},{int(y)}" for x, y in ln.box)
                    print(f"  {ln.score:.3f}  {ln.text}    [{box}]")
            if args.draw:
                out = args.draw if len(args.images) == 1 else args.draw.with_name(f"{args.draw.stem}-{img.stem}{args.draw.suffix}")
                draw(img, res, out)
        return 0

    return guarded(body)


if __name__ == "__main__":
    sys.exit(main())
