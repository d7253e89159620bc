"""The pipeline, image inputs, evaluation metrics and the two module CLIs."""
import json
import subprocess
import sys
from pathlib import Path

import pytest

np = pytest.importorskip("numpy")
pytest.importorskip("cv2")

import slimocr_zoo
from slimocr_zoo.errors import ImageError

from conftest import SHARED

IMG = SHARED / "data/icdar2015_det/images/img_2.jpg"


# --- pre-processing (pure functions and metrics: test_pure.py) ------------------------------

def test_rec_width_policies():
    from slimocr_zoo.ocr.rec import batch_width, resize_norm

    wide, narrow = np.zeros((20, 200, 3), np.uint8), np.zeros((20, 20, 3), np.uint8)
    v11 = {"height": 32, "width": 320, "width_policy": "ratio"}
    v4 = {"height": 48, "width": 320, "width_policy": "ratio_min"}
    assert batch_width([narrow], v11) == 32 and batch_width([narrow, wide], v11) == 320
    assert batch_width([narrow], v4) == 320 and batch_width([wide], v4) == 480
    x = resize_norm(np.full((10, 10, 3), 255, np.uint8), dict(v4, mean=[0.5] * 3, std=[0.5] * 3), 320)
    assert x.shape == (3, 48, 320) and x[:, :, :48].min() == 1.0 and x[:, :, 48:].max() == 0.0
    odd = np.zeros((20, 205, 3), np.uint8)  # 48 * 205 / 20 = 492
    assert batch_width([odd], v4) == 492 and batch_width([odd], v4, 32) == 512  # a width step: fewer shapes


def test_det_training_crops_at_the_pipelines_scale_when_asked():
    """det_scale [lo, hi]: crops of the image as the pipeline resizes it (1280 wide -> 960), times lo-hi."""
    from slimocr_zoo.build.distill import _augmented

    spec = {"limit_type": "max", "limit_side_len": 960, "mean": [0.5] * 3, "std": [0.5] * 3, "scale": 1 / 255}
    img = np.zeros((720, 1280, 3), np.uint8)
    img[:, :, :] = 255  # a white image on a black canvas: the white part's extent is the scale
    rng = np.random.default_rng(0)
    at = _augmented([img], 640, 1, rng, spec, [1.0, 1.0])[0]
    assert at.shape == (3, 640, 640) and (at[0, :, 0] > 0).sum() == 540  # 720 * 0.75 rows of image, the rest pad
    old = [(_augmented([img], 640, 1, rng, spec)[0][0, :, 0] > 0).sum() for _ in range(20)]
    assert np.mean(old) < 540  # the default: 0.5-1.5 x 640 / 1280, mostly smaller than the pipeline's


def test_strong_augmentation_varies_the_crops_and_leaves_the_default_stream_alone():
    """augment "strong": the same crops (same random stream for the crop itself), then rotated,
    jittered, blended; the default path draws exactly what it drew before the option existed."""
    from slimocr_zoo.build.distill import _augmented, _crop
    from slimocr_zoo.ocr.det import normalize

    spec = {"limit_type": "max", "limit_side_len": 960, "mean": [0.5] * 3, "std": [0.5] * 3, "scale": 1 / 255}
    rng = np.random.default_rng(1)
    imgs = [rng.integers(0, 256, (360, 640, 3), dtype=np.uint8) for _ in range(3)]
    plain = _augmented(imgs, 320, 4, np.random.default_rng(7), spec, [0.8, 1.25])
    r = np.random.default_rng(7)  # the default: one _crop a sample, nothing else drawn
    assert np.array_equal(plain, np.stack([normalize(_crop(imgs, 320, r, spec, [0.8, 1.25]), spec)[0]
                                           for _ in range(4)]))
    strong = _augmented(imgs, 320, 4, np.random.default_rng(7), spec, [0.8, 1.25], strong=True)
    again = _augmented(imgs, 320, 4, np.random.default_rng(7), spec, [0.8, 1.25], strong=True)
    assert strong.shape == plain.shape and np.array_equal(strong, again)  # the seed decides it all
    assert not np.array_equal(strong, plain) and strong.min() >= -1.0 and strong.max() <= 1.0


def test_rec_training_crops_keep_their_aspect_when_asked():
    """rec_width "batch": the batch padded to its widest crop, as at inference; "fixed" squeezes it."""
    from slimocr_zoo.build.distill import _jittered_crops

    v4 = {"height": 48, "width": 320, "width_policy": "ratio_min", "mean": [0.5] * 3, "std": [0.5] * 3}
    wide = np.full((40, 800, 3), 255, np.uint8)  # 960 px at height 48
    rng = np.random.default_rng(0)
    assert _jittered_crops([wide], 2, rng, v4).shape == (2, 3, 48, 320)
    x = _jittered_crops([wide], 2, rng, v4, "batch")
    assert x.shape[:3] == (2, 3, 48) and x.shape[3] >= 900 and x.shape[3] % 32 == 0  # its own aspect


def test_det_resize_follows_the_spec():
    from slimocr_zoo.ocr.det import resize_for_det

    img = np.zeros((720, 1280, 3), np.uint8)
    assert resize_for_det(img, {"limit_type": "max", "limit_side_len": 960, "multiple": 32})[0].shape == (544, 960, 3)
    assert resize_for_det(img, {"limit_type": "min", "limit_side_len": 736, "multiple": 32})[0].shape == (736, 1312, 3)


# --- images ---------------------------------------------------------------------------------

def test_image_inputs_and_exif(tmp_path):
    pytest.importorskip("cv2")
    from PIL import Image

    from slimocr_zoo.ocr.image import read_image

    a = read_image(IMG)
    assert a.shape == (720, 1280, 3)
    assert np.array_equal(read_image(IMG.read_bytes()), a)
    assert read_image(a[:, :, 0]).shape == (720, 1280, 3)  # gray -> BGR
    im = Image.open(IMG)
    exif = im.getexif()
    exif[0x0112] = 6  # "rotate 90 CW to display"
    im.save(tmp_path / "rot.jpg", exif=exif)
    assert read_image(tmp_path / "rot.jpg").shape == (1280, 720, 3)


def test_images_from_the_wild_become_bgr_on_white(tmp_path):
    """Gray, gray + alpha, RGBA, 16-bit, palette and CMYK files, and such arrays: BGR uint8, with
    transparent pixels composited on white (a viewer's rendering), never left black."""
    import io

    import cv2
    from PIL import Image

    from slimocr_zoo.ocr.image import read_image

    base = cv2.imread(str(SHARED / "data/icdar2015_rec/images/word_1.png"))
    gray = cv2.cvtColor(base, cv2.COLOR_BGR2GRAY)
    rgb = Image.fromarray(base[:, :, ::-1])

    def pil(im, fmt, **kw):
        b = io.BytesIO()
        im.save(b, fmt, **kw)
        return b.getvalue()

    text = np.zeros(gray.shape + (4,), np.uint8)  # black ink on a clear background (what alpha-dropping shows)
    text[8:20, 10:60, 3] = 255
    files = {"gray": cv2.imencode(".png", gray)[1].tobytes(),
             "16-bit": cv2.imencode(".png", gray.astype(np.uint16) * 257)[1].tobytes(),
             "palette": pil(rgb.convert("P"), "PNG"), "cmyk": pil(rgb.convert("CMYK"), "JPEG", quality=95),
             "rgba": cv2.imencode(".png", text)[1].tobytes(),
             "gray+alpha": pil(Image.fromarray(text[:, :, [0, 3]], "LA"), "PNG")}
    got = {k: read_image(v, k) for k, v in files.items()}
    assert all(g.shape == base.shape and g.dtype == np.uint8 for g in got.values())
    assert np.array_equal(got["16-bit"], got["gray"]) and np.abs(got["gray"][:, :, 0].astype(int) - gray).max() == 0
    assert np.abs(got["cmyk"].astype(int) - base).mean() < 4 and np.abs(got["palette"].astype(int) - base).mean() < 25
    for k in ("rgba", "gray+alpha"):
        assert got[k][0, 0].tolist() == [255, 255, 255] and got[k][10, 20].tolist() == [0, 0, 0]  # ink on white
    # the same as arrays: float [0, 1], uint16, HxWx1, BGRA
    assert np.array_equal(read_image(gray.astype(np.float32) / 255), got["gray"])
    assert np.array_equal(read_image(gray.astype(np.uint16) * 257), got["gray"])
    assert np.array_equal(read_image(gray[:, :, None]), got["gray"]) and np.array_equal(read_image(text), got["rgba"])
    with pytest.raises(ImageError, match="expected an HxW gray or HxWx3"):
        read_image(np.zeros((4, 4, 5), np.uint8))


def test_det_side_is_capped_for_huge_images():
    from slimocr_zoo.ocr.det import MAX_SIDE, resize_for_det

    pano = np.zeros((400, 9000, 3), np.uint8)  # a "min" limit alone would make it 736 x 16560
    r = resize_for_det(pano, {"limit_type": "min", "limit_side_len": 736, "multiple": 32})[0]
    assert max(r.shape[:2]) <= MAX_SIDE and r.shape[0] >= 32
    assert resize_for_det(np.zeros((6000, 8000, 3), np.uint8), {"limit_type": "max", "limit_side_len": 960})[0].shape \
        == (704, 960, 3)  # the max limit as before


@pytest.mark.parametrize("content", [b"", b"not an image at all", None])
def test_corrupt_image_is_named(tmp_path, content):
    pytest.importorskip("cv2")
    from slimocr_zoo.ocr.image import read_image

    p = tmp_path / "broken.jpg"
    if content is None:
        p.write_bytes(IMG.read_bytes()[:300])  # a truncated JPEG
    else:
        p.write_bytes(content)
    with pytest.raises(ImageError, match="broken.jpg"):
        read_image(p)
    with pytest.raises(ImageError, match="cannot read image .*missing.jpg"):
        read_image(tmp_path / "missing.jpg")


# --- the pipeline ---------------------------------------------------------------------------

@pytest.fixture(scope="module")
def ocr(tmp_path_factory, shared_models):
    pytest.importorskip("paddle")
    mp = pytest.MonkeyPatch()
    mp.setenv("SLIMOCR_ZOO_HOME", str(tmp_path_factory.mktemp("ocr_home")))
    o = slimocr_zoo.pipeline(det="ch_PP-OCRv4_det", rec="ch_PP-OCRv4_rec", cls="ch_ppocr_mobile_v2.0_cls",
                             mirror=str(shared_models), quiet=True)
    yield o
    mp.undo()


@pytest.mark.paddle
def test_pipeline_reads_a_real_image(ocr):
    res = ocr(IMG)
    assert {"Free yourself from", "PAIN"} <= set(res.texts)
    ys = [b[0][1] for b in res.boxes]
    assert ys == sorted(ys) or all(abs(a - b) < 10 or a < b for a, b in zip(ys, ys[1:]))  # reading order
    assert res.boxes_found >= len(res.lines) and all(s >= 0.5 for s in res.scores)
    t = res.timings
    stages = ("read", "det_pre", "det", "det_post", "crop", "cls", "rec", "rec_decode")
    assert min(t[k] for k in ("det", "cls", "rec")) > 0 and sum(t[k] for k in stages) <= t["total"]
    d = res.to_dict()
    assert json.loads(json.dumps(d))["lines"][0]["text"] == res.texts[0]


@pytest.mark.paddle
def test_pipeline_same_for_path_bytes_array(ocr):
    from slimocr_zoo.ocr.image import read_image

    a = ocr(IMG).texts
    assert ocr(IMG.read_bytes()).texts == a and ocr(read_image(IMG)).texts == a


@pytest.mark.paddle
def test_pipeline_flipped_image_is_read_with_cls(ocr):
    from slimocr_zoo.ocr.image import read_image

    res = ocr(np.ascontiguousarray(read_image(IMG)[::-1, ::-1]))
    assert "PAIN" in res.texts and 180 in [ln.angle for ln in res.lines]


@pytest.mark.paddle
def test_a_text_line_image_is_read_whole(ocr, monkeypatch):
    """A wide, short image (a cropped line) is padded before detection as RapidOCR does: read as one
    line, where the unpadded detector split it into words (measured: 4 lines)."""
    import cv2

    from slimocr_zoo.ocr import system

    img = np.full((39, 445, 3), 255, np.uint8)
    cv2.putText(img, "Quality printing since 1987", (6, 28), cv2.FONT_HERSHEY_DUPLEX, 0.9, (20, 20, 20), 1,
                cv2.LINE_AA)
    res = ocr(img)
    assert len(res.lines) == 1 and res.texts[0].replace(" ", "").lower() == "qualityprintingsince1987"
    assert all(0 <= y <= 38 for _, y in res.lines[0].box)  # in the image's own rows
    monkeypatch.setattr(system, "WIDE", 1000)
    monkeypatch.setattr(system, "MIN_HEIGHT", 0)
    assert len(ocr(img).lines) >= 2  # unpadded: fragments (the test can fail)


@pytest.mark.paddle
def test_tiny_and_many_images(ocr):
    tiny = ocr(np.full((5, 7, 3), 255, np.uint8))
    assert tiny.lines == [] and tiny.image_size == (5, 7)
    both = ocr([IMG, IMG.read_bytes()])  # a list in, a list out
    assert [r.texts for r in both] == [ocr(IMG).texts] * 2


@pytest.mark.paddle
def test_ocr_cli_reads_a_folder_one_json_line_per_image(tmp_path, shared_models):
    import shutil

    for n in (1, 2):
        shutil.copy(SHARED / f"data/icdar2015_det/images/img_{n}.jpg", tmp_path)
    (tmp_path / "broken.png").write_bytes(b"junk")
    (tmp_path / "notes.txt").write_text("not an image")
    r = subprocess.run([sys.executable, "-m", "slimocr_zoo.ocr", str(tmp_path), "--json", "--mirror",
                        str(shared_models)], capture_output=True, text=True, timeout=300)
    lines = [json.loads(x) for x in r.stdout.splitlines()]
    assert [Path(d["image"]).name for d in lines] == ["broken.png", "img_1.jpg", "img_2.jpg"]  # .txt skipped
    assert "error" in lines[0] and all("lines" in d for d in lines[1:])
    assert r.returncode == 1 and "1 of 3 images could not be read" in r.stderr


@pytest.mark.paddle
def test_seed_config_says_what_is_missing(shared_models):
    with pytest.raises(slimocr_zoo.ZooError, match="MobileNetV3_CRNN.*ch_ppocr_mobile_v1.1_rec_infer.tar") as e:
        slimocr_zoo.pipeline(config=0, mirror=str(shared_models), offline=True)
    assert "artifact='synthetic'" in str(e.value)  # and it points at the latency-only stand-in


@pytest.mark.paddle
def test_ocr_cli_json_and_draw(tmp_path, shared_models):
    out = tmp_path / "drawn.png"
    r = subprocess.run([sys.executable, "-m", "slimocr_zoo.ocr", str(IMG), "--json", "--mirror", str(shared_models),
                        "--draw", str(out)], capture_output=True, text=True, timeout=300)
    assert r.returncode == 0, r.stderr
    doc = json.loads(r.stdout.strip().splitlines()[-1])
    assert doc["models"]["det"] == "ch_PP-OCRv4_det" and "PAIN" in [ln["text"] for ln in doc["lines"]]
    import cv2

    assert cv2.imread(str(out)).shape == (720, 1280, 3)
    bad = tmp_path / "bad.png"
    bad.write_bytes(b"junk")
    r = subprocess.run([sys.executable, "-m", "slimocr_zoo.ocr", str(bad), "--mirror", str(shared_models)],
                       capture_output=True, text=True, timeout=300)
    assert r.returncode == 1 and "bad.png is not a readable image" in r.stderr


@pytest.mark.paddle
def test_eval_cli_writes_results(tmp_path, shared_models):
    out = tmp_path / "eval.json"
    r = subprocess.run([sys.executable, "-m", "slimocr_zoo.eval", "--models", "MobileNetV3_DB", "ch_PP-OCRv4_rec",
                        "--runtime", "paddle", "--limit", "6", "--data", str(SHARED / "data"), "--mirror",
                        str(shared_models), "--out", str(out), "-q"], capture_output=True, text=True, timeout=300)
    assert r.returncode == 0, r.stderr
    doc = json.loads(out.read_text())
    det, rec = doc["runs"]
    assert det["model"]["files"]["params"] == slimocr_zoo.info("MobileNetV3_DB").artifact("paddle").files[1].sha256
    assert 0 < det["metrics"]["hmean"] <= 1 and det["dataset"]["items"] == 6 and len(det["dataset"]["labels_sha256"]) == 64
    assert rec["metrics"]["n"] == 6 and rec["metrics"]["accuracy"] > 0.5
    # per item, for paired intervals: the same sums as the metrics
    assert len(det["per_item"]) == 6 and sum(c[0] for c in det["per_item"]) == det["metrics"]["matched"]
    assert sum(rec["per_item"]) / 6 == rec["metrics"]["accuracy"]
    assert doc["environment"]["paddlepaddle"] == "2.6.2" and doc["date"].startswith("20")
    assert "hmean" in r.stdout


@pytest.mark.paddle
def test_eval_refuses_a_task_it_cannot_score(shared_models):
    from slimocr_zoo.cli import main

    assert main(["eval", "--models", "ch_ppocr_mobile_v2.0_cls", "--runtime", "paddle", "--limit", "1",
                 "--data", str(SHARED / "data"), "--mirror", str(shared_models)]) == 1


def test_det_normalize_is_the_formula_in_either_channel_order():
    np = pytest.importorskip("numpy")
    from slimocr_zoo.ocr.det import normalize

    img = np.random.default_rng(1).integers(0, 256, (7, 5, 3), dtype=np.uint8)
    spec = {"scale": 1 / 255, "mean": [0.1, 0.2, 0.3], "std": [0.4, 0.5, 0.6]}
    want = ((img.astype(np.float32) / 255 - spec["mean"]) / spec["std"]).transpose(2, 0, 1)[None]
    assert np.allclose(normalize(img, spec), want, atol=1e-6) and normalize(img, spec).flags.c_contiguous
    rgb = normalize(img, {**spec, "channel_order": "RGB"})
    want_rgb = ((img[:, :, ::-1].astype(np.float32) / 255 - spec["mean"]) / spec["std"]).transpose(2, 0, 1)[None]
    assert np.allclose(rgb, want_rgb, atol=1e-6)
