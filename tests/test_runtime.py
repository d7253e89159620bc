"""Runtimes and their guards, on the real weights."""
import sys

import pytest

np = pytest.importorskip("numpy")
pytest.importorskip("cv2")

import slimocr_zoo
from slimocr_zoo.errors import RuntimeUnavailableError

from conftest import SHARED

pytestmark = pytest.mark.paddle
IMG = SHARED / "data/icdar2015_det/images/img_2.jpg"


@pytest.fixture(scope="module")
def loaded(tmp_path_factory, shared_models):
    """Models loaded once per module into their own cache (predictors are slow to build)."""
    mp = pytest.MonkeyPatch()
    mp.setenv("SLIMOCR_ZOO_HOME", str(tmp_path_factory.mktemp("rt_home")))
    out = {}

    def get(mid, runtime=None, **kw):
        key = (mid, runtime, tuple(sorted(kw.items())))
        if key not in out:
            out[key] = slimocr_zoo.load(mid, mirror=str(shared_models), runtime=runtime, quiet=True, **kw)
        return out[key]

    get.home = mp
    yield get
    mp.undo()


def test_det_paddle_and_lite_agree_on_the_probability_map(loaded):
    from slimocr_zoo.ocr.image import read_image

    img = read_image(IMG)
    p = loaded("MobileNetV3_DB").stage.probability_map(img)
    q = loaded("MobileNetV3_DB", "lite", threads=1).stage.probability_map(img)
    assert p.shape == (544, 960) and p.max() > 0.9
    assert np.abs(p - q).max() < 1e-3
    a, b = loaded("MobileNetV3_DB")(img), loaded("MobileNetV3_DB", "lite", threads=1)(img)
    assert len(a) >= 5 and np.array_equal(a.boxes, b.boxes)


def test_lite_outputs_are_copies_and_shapes_do_not_mix(loaded):
    pred = loaded("ch_ppocr_mobile_v2.0_cls", "lite", threads=1).stage.predictor
    rng = np.random.default_rng(0)
    x1, x2 = rng.random((1, 3, 48, 192), np.float32), rng.random((1, 3, 48, 192), np.float32)
    y1 = pred.run(x1)[0]
    keep = y1.copy()
    pred.run(x2)
    assert np.array_equal(y1, keep)  # not a view the next run overwrote
    big = rng.random((3, 3, 48, 192), np.float32)
    yb = pred.run(big)[0]
    assert yb.shape == (3, 2)
    assert np.allclose(pred.run(x1)[0], keep, atol=1e-6)  # back to the first shape: same answer
    assert len(pred.shapes) == 2


def test_lite_predictors_are_bounded_by_memory_not_only_by_count(loaded, monkeypatch):
    """One x86 Lite predictor per input shape, and a big shape's predictor holds ~1 GB (PP-OCRv4 det at
    960x960): sixteen of them, the count bound alone, took the machine's 23 GB in `make perf`."""
    from slimocr_zoo.runtime.lite import allocated_bytes

    pred = loaded("ch_ppocr_mobile_v2.0_cls", "lite", threads=1).stage.predictor
    rng = np.random.default_rng(0)
    first = rng.random((1, 3, 48, 192), np.float32)
    want = pred.run(first)[0]
    one = pred.held_bytes
    assert one > 2**20  # measured, not zero
    monkeypatch.setenv("SLIMOCR_ZOO_LITE_MEMORY_MB", str(2.5 * one / 2**20))
    start = allocated_bytes()
    for w in range(200, 200 + 12 * 16, 16):
        pred.run(rng.random((1, 3, 48, w), np.float32))
        assert pred.held_bytes <= 2.5 * one * 1.5 or len(pred.shapes) == 1
    assert 1 <= len(pred.shapes) < 6  # the count bound (16) alone would hold all 13
    assert allocated_bytes() - start < 8 * one  # memory stays bounded as new shapes keep coming
    assert np.allclose(pred.run(first)[0], want, atol=1e-6)  # an evicted shape comes back right


def test_arm_nb_from_manifest_is_refused(loaded):
    m = loaded("ch_ppocr_mobile_v2.0_cls", format="nb", target="arm")
    with pytest.raises(RuntimeUnavailableError, match="ARM .nb.*garbage"):
        m.stage


def test_arm_nb_is_caught_by_the_file_itself(shared_models):
    from slimocr_zoo.runtime.lite import check_nb_for_x86

    with pytest.raises(RuntimeUnavailableError, match="ARM kernels"):
        check_nb_for_x86(shared_models / "ppocr_v2.0_lite_arm/ch_ppocr_mobile_v2.0_det_opt.nb")


def test_int8_and_version_guards(loaded, tmp_path):
    from slimocr_zoo.runtime.libs import lite_version as runtime_version
    from slimocr_zoo.runtime.lite import LitePredictor, check_nb_for_x86
    from slimocr_zoo.runtime.nbfile import inspect_nb

    lp = LitePredictor(loaded("MobileNetV3_DB"), threads=1)  # converts with this paddlelite's opt
    info = inspect_nb(lp._nb)
    assert info.version == runtime_version() == "v2.13-rc" and info.targets == {"x86"} and info.int8_kernels == 0
    check_nb_for_x86(lp._nb)  # our own x86 float file passes
    data = bytearray(lp._nb.read_bytes())
    old = tmp_path / "old.nb"
    old.write_bytes(bytes(data).replace(b"v2.13-rc", b"v2.10-rc", 1))
    with pytest.raises(RuntimeUnavailableError, match="opt v2.10-rc.*v2.13-rc"):
        check_nb_for_x86(old)
    i = bytes(data).index(b"conv2d/def/2/1/1")
    data[i:i + 16] = b"conv2d/def/2/2/1"  # an int8 x86 conv kernel
    q = tmp_path / "int8.nb"
    q.write_bytes(bytes(data))
    with pytest.raises(RuntimeUnavailableError, match="int8 .nb"):
        check_nb_for_x86(q)


def test_numpy2_with_paddlelite_is_refused(monkeypatch):
    import numpy

    from slimocr_zoo.runtime import libs

    monkeypatch.setattr(numpy, "__version__", "2.1.0")
    with pytest.raises(RuntimeUnavailableError, match="numpy 2.1.0.*numpy<2"):
        libs.paddlelite()


def test_missing_runtimes_name_the_extra(monkeypatch, loaded):
    from slimocr_zoo.runtime import libs

    monkeypatch.setitem(sys.modules, "paddle", None)
    with pytest.raises(RuntimeUnavailableError, match=r"slimocr-zoo\[paddle\]"):
        libs.paddle_inference()
    monkeypatch.setitem(sys.modules, "paddlelite.lite", None)
    with pytest.raises(RuntimeUnavailableError, match=r"slimocr-zoo\[lite\].*3.10"):
        libs.paddlelite()


def test_paddle3_json_program_is_refused(tmp_path):
    from slimocr_zoo.runtime.nbfile import check_program

    p = tmp_path / "inference.json"
    p.write_text('{"base_code": {"magic": "pir", "version": 1}, "program": {}}')
    with pytest.raises(RuntimeUnavailableError, match="paddle 3.x JSON"):
        check_program(p)


def test_program_only_artifact_cannot_run(loaded):
    m = loaded("MobileNetV3_CRNN", artifact="program")
    with pytest.raises(RuntimeUnavailableError, match="without weights"):
        m.stage


def test_paddle_runtime_refuses_nb(loaded):
    m = loaded("ch_ppocr_mobile_v2.0_det", runtime="paddle")
    assert loaded("ch_ppocr_mobile_v2.0_det").runtime == "lite"  # an nb artifact's own runtime
    with pytest.raises(RuntimeUnavailableError, match="runtime='lite'"):
        m.stage


def test_cls_detects_upside_down(loaded):
    from slimocr_zoo.ocr.image import read_image

    crop = read_image(SHARED / "data/icdar2015_rec/images/word_2.png")
    for mid in ("ch_ppocr_mobile_v2.0_cls", "ch_ppocr_mobile_v1.1_cls"):
        cls = loaded(mid)
        assert cls(crop).angle == 0
        flipped = cls(np.ascontiguousarray(crop[::-1, ::-1]))
        assert flipped.angle == 180 and flipped.score > 0.5


def test_rec_reads_real_words(loaded):
    from slimocr_zoo.data import read_rec_labels

    items = read_rec_labels(SHARED / "data/icdar2015_rec/labels.txt")[:24]
    rec = loaded("ch_PP-OCRv4_rec")
    out = rec([p for p, _ in items])
    right = sum(r.text.lower() == t.lower() for r, (_, t) in zip(out, items))
    assert right >= 20, [(r.text, t) for r, (_, t) in zip(out, items)]
    one = rec(items[0][0])
    assert one.text == out[0].text and 0 < one.score <= 1


def test_paddle_then_pyclipper_imports():
    """paddle's bundled zlib must not break Cython modules imported after it (pyclipper 1.4)."""
    import subprocess

    code = "from slimocr_zoo.runtime.libs import import_paddle; import_paddle(); import pyclipper; print('ok')"
    r = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, timeout=120)
    assert r.stdout.strip() == "ok", r.stderr[-500:]


def test_bf16_det_finds_the_same_boxes(loaded):
    from slimocr_zoo.runtime.libs import bf16_supported

    if not bf16_supported():
        pytest.skip("this CPU has no AVX512-BF16/AMX")
    from slimocr_zoo.ocr.image import read_image

    img = read_image(IMG)
    f32, b16 = loaded("ch_PP-OCRv4_det"), loaded("ch_PP-OCRv4_det", precision="bf16")
    assert b16.stage.predictor.precision == "bf16"
    p, q = f32.stage.probability_map(img), b16.stage.probability_map(img)
    assert not np.array_equal(p, q)  # bfloat16 really ran: not the fp32 numbers
    assert ((p > 0.3) != (q > 0.3)).mean() < 0.01  # the text mask DB thresholds
    a, b = f32(img), b16(img)
    assert len(a) >= 3 and len(a) == len(b)
    assert np.abs(np.asarray(a.boxes) - np.asarray(b.boxes)).max() <= 4  # pixels


def test_bf16_refused_where_it_cannot_run(loaded, monkeypatch, tmp_path):
    from slimocr_zoo.runtime.libs import import_paddle

    monkeypatch.setenv("SLIMOCR_ZOO_HOME", str(tmp_path / "empty"))
    with pytest.raises(ValueError, match="unknown precision 'fp16'; choose one of fp32, bf16, int8, int8-simulated"):
        slimocr_zoo.load("MobileNetV3_DB", precision="fp16", offline=True)
    # refused before any download: the cache is empty and offline, yet the error is about bf16
    with pytest.raises(RuntimeUnavailableError, match="Paddle Lite x86 has no bfloat16"):
        slimocr_zoo.load("MobileNetV3_DB", runtime="lite", precision="bf16", offline=True)
    with pytest.raises(RuntimeUnavailableError, match="Paddle Lite x86 has no bfloat16"):
        slimocr_zoo.load("ch_ppocr_mobile_v2.0_det", precision="bf16", offline=True)  # an nb: Lite's
    import dataclasses

    with pytest.raises(RuntimeUnavailableError, match="Paddle Lite x86 has no bfloat16"):
        dataclasses.replace(loaded("MobileNetV3_DB"), runtime="lite", precision="bf16")  # however it is made
    import_paddle()
    from paddle.base import core

    monkeypatch.setattr(core, "supports_bfloat16_fast_performance", lambda: False)  # a CPU without bf16
    m = loaded("MobileNetV3_DB", precision="bf16")
    with pytest.raises(RuntimeUnavailableError, match="no bfloat16 instructions.*precision='fp32'"):
        m.stage


def test_affine_folding_keeps_the_outputs(loaded):
    """PP-LCNetV3's scalar affine blocks are folded (faster) and the outputs stay those of the program."""
    from slimocr_zoo.data import read_rec_labels
    from slimocr_zoo.ocr.image import read_image
    from slimocr_zoo.ocr.rec import resize_norm
    from slimocr_zoo.runtime.fold import fold
    from slimocr_zoo.runtime.libs import import_paddle
    from slimocr_zoo.runtime.paddle import PaddlePredictor

    paddle = import_paddle()
    img = read_image(IMG)
    det = loaded("ch_PP-OCRv4_det")
    folded = det.stage.predictor
    prog, params = (p.read_bytes() for p in det.program_files())
    f = fold(prog, params)

    def ops(program):
        desc = paddle.base.core.ProgramDesc(program)  # kept alive while its block is read
        block = desc.block(0)
        ops = [block.op(i) for i in range(block.op_size())]
        # leave out the export's own ops: saving adds a save_infer_model/scale per output
        return [op.type() for op in ops if not any(n.startswith("save_infer_model/") for n in op.output_arg_names())]

    before, after = ops(prog), ops(f.program)
    # each mul+add pair became one scale op; each scale folded into a convolution's weights went away
    assert f.scales > 0 and f.convs > 0 and folded.folded == (f.scales, f.convs)
    assert len(before) - len(after) == f.scales + f.convs
    assert before.count("elementwise_mul") - after.count("elementwise_mul") == f.scales
    assert after.count("scale") - before.count("scale") == f.scales - f.convs
    plain = PaddlePredictor(det, 1, fold=False)
    assert plain.folded == (0, 0)
    p = det.stage.probability_map(img)
    det.stage.predictor = plain
    try:
        q = det.stage.probability_map(img)
    finally:
        det.stage.predictor = folded
    assert np.abs(p - q).max() < 1e-4 and p.max() > 0.9

    rec = loaded("ch_PP-OCRv4_rec")
    assert min(rec.stage.predictor.folded) > 0
    crops = [read_image(path) for path, _ in read_rec_labels(SHARED / "data/icdar2015_rec/labels.txt")[:6]]
    xb = np.stack([resize_norm(c, rec.entry.input, 320) for c in crops])
    a = rec.stage.predictor.run(xb)[0]
    b = PaddlePredictor(rec, 1, fold=False).run(xb)[0]
    assert np.abs(a - b).max() < 1e-4 and (a.argmax(-1) == b.argmax(-1)).all()
    assert loaded("MobileNetV3_DB").stage.predictor.folded == (0, 0)  # nothing of the kind: files as they are
    assert paddle.in_dynamic_mode()  # folding ran in static mode and gave the caller's mode back


def test_folding_in_a_worker_thread_and_when_it_fails(loaded, monkeypatch, caplog):
    import threading

    from slimocr_zoo.runtime import fold, paddle as prt

    rec = loaded("ch_PP-OCRv4_rec")
    prt._fold_cached.cache_clear()
    got = []
    t = threading.Thread(target=lambda: got.append(prt.PaddlePredictor(rec, 1).folded))  # the phone bench's threads
    t.start()
    t.join()
    assert got == [rec.stage.predictor.folded] and min(got[0]) > 0

    def broken(program, params):
        raise RuntimeError("a program this paddle cannot parse")

    prt._fold_cached.cache_clear()
    monkeypatch.setattr(fold, "fold", broken)
    with caplog.at_level("WARNING", logger="slimocr_zoo"):
        p = prt.PaddlePredictor(rec, 1)
    assert p.folded == (0, 0) and "not folded (RuntimeError: a program this paddle cannot parse)" in caplog.text
    assert p.run(np.zeros((1, 3, 48, 320), np.float32))[0].shape[0] == 1  # runs as published
    prt._fold_cached.cache_clear()
