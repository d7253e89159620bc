"""The reference side of benchmarks/parity.py: PaddleOCR 2.7.3's own TextDetector / TextRecognizer
(tools/infer) on the same local weights and parameters. Runs in .venv-ref (paddleocr's pins clash
with ours); prints one JSON document: det boxes per image, rec texts per crop."""
import zlib  # noqa: F401  (before paddle: see slimocr_zoo/runtime/paddle.py import_paddle)
import argparse
import json
import os
import sys
import tempfile

import cv2
import numpy as np


def model_dir(files):
    """PaddleOCR looks for inference.pdmodel/.pdiparams in a folder: link the zoo's files there."""
    d = tempfile.mkdtemp(prefix="ref_model_")
    prog = files.get("inference.pdmodel") or files["model"]
    params = files.get("inference.pdiparams") or files["params"]
    os.symlink(prog, os.path.join(d, "inference.pdmodel"))
    os.symlink(params, os.path.join(d, "inference.pdiparams"))
    return d


def base_args(threads):
    from paddleocr.tools.infer import utility

    args = utility.init_args().parse_args([])
    args.use_gpu = False
    args.enable_mkldnn = True
    args.cpu_threads = threads
    args.benchmark = False
    args.show_log = False
    return args


def main():
    p = argparse.ArgumentParser()
    p.add_argument("--spec", required=True, help="JSON: det/rec models with files and manifest specs, images, crops")
    a = p.parse_args()
    spec = json.load(open(a.spec))
    out = {"det": {}, "rec": {}}
    from paddleocr.tools.infer.predict_det import TextDetector
    from paddleocr.tools.infer.predict_rec import TextRecognizer

    for m in spec["det"]:
        args = base_args(spec["threads"])
        args.det_algorithm = "DB"
        args.det_model_dir = model_dir(m["files"])
        args.det_limit_side_len = m["input"]["limit_side_len"]
        args.det_limit_type = m["input"]["limit_type"]
        args.det_db_thresh = m["post"]["thresh"]
        args.det_db_box_thresh = m["post"]["box_thresh"]
        args.det_db_unclip_ratio = m["post"]["unclip_ratio"]
        args.det_db_score_mode = m["post"].get("score_mode", "fast")
        args.use_dilation = False
        det = TextDetector(args)
        boxes = {}
        for path in spec["images"]:
            dt, _ = det(cv2.imread(path))
            boxes[path] = np.asarray(dt).tolist()
        out["det"][m["id"]] = boxes
    for m in spec["rec"]:
        args = base_args(spec["threads"])
        args.rec_algorithm = "SVTR_LCNet"
        args.rec_model_dir = model_dir(m["files"])
        args.rec_image_shape = f"3,{m['input']['height']},{m['input']['width']}"
        args.rec_char_dict_path = m["dictionary"]
        args.use_space_char = m["input"]["use_space_char"]
        args.rec_batch_num = 6
        rec = TextRecognizer(args)
        crops = [cv2.imread(p) for p in spec["crops"]]
        res, _ = rec(crops)
        out["rec"][m["id"]] = [t for t, _ in res]
    json.dump(out, sys.stdout)


if __name__ == "__main__":
    main()
