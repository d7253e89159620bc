# The emulated phone's ocr_db_crnn: PaddleOCR deploy/lite's demo program, same arguments
# (det.nb rec.nb cls.nb image dict, ./config.txt), same printout ("i<TAB>text<TAB>score" lines and
# "花费了N秒", the wall time from model loading to the last box), run with the paddlelite wheel.
# Written out with a "#!python" line by tests.phone.ocr_db_crnn(); not imported by the package.
import sys
import time


def config() -> dict:
    out = {}
    for line in open("./config.txt", encoding="utf-8"):
        k, _, v = line.strip().partition(" ")
        if k:
            out[k] = float(v)
    return out


def main(argv) -> int:
    if len(argv) < 6:
        print(f"[ERROR] usage: {argv[0]} det_model_file cls_model_file rec_model_file image_path charactor_dict",
              file=sys.stderr)
        return 1
    det_file, rec_file, cls_file, img_path, dict_path = argv[1:6]
    cfg = config()
    import cv2
    import numpy as np
    from paddlelite.lite import MobileConfig, create_paddle_predictor

    start = time.perf_counter()

    def load(path):
        c = MobileConfig()
        c.set_model_from_file(path)
        return create_paddle_predictor(c)

    det, _cls = load(det_file), load(cls_file)
    recs = {}  # x86 Lite predictors cannot change input shape between runs: one per crop width
    chars = ["#"] + [x.rstrip("\n") for x in open(dict_path, encoding="utf-8")] + [" "]
    img = cv2.imread(img_path, cv2.IMREAD_COLOR)
    if img is None:
        print(f"cannot read {img_path}", file=sys.stderr)
        return 1
    h, w = img.shape[:2]
    side = cfg.get("max_side_len", 960)
    r = min(1.0, side / max(h, w))
    rh, rw = max(32, int(round(h * r / 32)) * 32), max(32, int(round(w * r / 32)) * 32)
    x = (cv2.resize(img, (rw, rh)).astype(np.float32) / 255 - [0.485, 0.456, 0.406]) / [0.229, 0.224, 0.225]
    det.get_input(0).from_numpy(x.transpose(2, 0, 1)[None].astype(np.float32))
    det.run()
    prob = det.get_output(0).numpy()[0, 0].copy()
    mask = (prob > cfg.get("det_db_thresh", 0.3)).astype(np.uint8)
    contours, _ = cv2.findContours(mask, cv2.RETR_LIST, cv2.CHAIN_APPROX_SIMPLE)
    texts = []
    rec_h = int(cfg.get("rec_image_height", 48))
    for c in contours:
        bx, by, bw, bh = cv2.boundingRect(c)
        if bw < 4 or bh < 4:
            continue
        crop = img[int(by * h / rh):int((by + bh) * h / rh) + 1, int(bx * w / rw):int((bx + bw) * w / rw) + 1]
        cw = max(8, int(rec_h * crop.shape[1] / max(1, crop.shape[0])))
        t = (cv2.resize(crop, (cw, rec_h)).astype(np.float32) / 255 - 0.5) / 0.5
        rec = recs.get(cw) or recs.setdefault(cw, load(rec_file))
        rec.get_input(0).from_numpy(t.transpose(2, 0, 1)[None].astype(np.float32))
        rec.run()
        out = rec.get_output(0).numpy()[0]
        ids, score = out.argmax(-1), float(out.max(-1).mean())
        text = "".join(chars[i] for j, i in enumerate(ids) if i and (j == 0 or i != ids[j - 1]) and i < len(chars))
        texts.append((text, score))
    duration = time.perf_counter() - start
    for i, (t, s) in enumerate(texts):
        print(f"{i}\t{t}\t{s:g}")
    print(f"花费了{duration:g}秒")
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv))
