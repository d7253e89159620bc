"""Recipes on real weights, kept small: opt, synthetic weights, quant_post and prune."""
import json
import shutil

import pytest

np = pytest.importorskip("numpy")
pytest.importorskip("paddle")

import slimocr_zoo  # noqa: E402
from slimocr_zoo import cache  # noqa: E402
from slimocr_zoo.api import build  # noqa: E402
from slimocr_zoo.build import is_built, read_record  # noqa: E402
from slimocr_zoo.files import sha256_of  # noqa: E402

from conftest import SHARED  # noqa: E402

pytestmark = pytest.mark.paddle


@pytest.fixture(autouse=True)
def sources(monkeypatch, shared_models):
    monkeypatch.setenv("SLIMOCR_ZOO_MIRROR", str(shared_models))
    monkeypatch.setenv("SLIMOCR_ZOO_DATA", str(SHARED / "data"))


def _user_manifest(tmp_path, models):
    p = tmp_path / "recipes.json"
    p.write_text(json.dumps({"schema_version": 1, "models": models}))
    slimocr_zoo.register_manifest(p)


def _op_types(pdmodel) -> set:
    import paddle

    desc = paddle.base.core.ProgramDesc(pdmodel.read_bytes())  # kept alive while its block is read
    block = desc.block(0)
    return {block.op(i).type() for i in range(block.op_size())}


def _built(mid, name, recipe, fmt="paddle", **extra):
    files = ([{"path": f"built/{mid}/{name}/model.nb"}] if fmt == "nb" else
             [{"path": f"built/{mid}/{name}/inference.pdmodel"}, {"path": f"built/{mid}/{name}/inference.pdiparams"}])
    a = {"name": name, "format": fmt, "files": files, "sources": [], "recipe": recipe, "provenance": "test build"}
    a.update({"layout": "pdmodel"} if fmt == "paddle" else {"target": recipe["target"], "opt_version": "v2.13-rc"})
    a.update(extra)
    return a


def test_opt_is_deterministic_and_cached(zoo_env):
    from slimocr_zoo.runtime.nbfile import inspect_nb

    a = build("MobileNetV3_DB", "nb-x86")
    first = sha256_of(a.files["model.nb"])
    rec = read_record(a.artifact)
    assert rec["outputs"]["model.nb"]["sha256"] == first and rec["tools"]["paddlelite"] == "2.13rc0"
    assert rec["parent"]["files"]["params"] == slimocr_zoo.info("MobileNetV3_DB").artifact("paddle").files[1].sha256
    mtime = a.files["model.nb"].stat().st_mtime_ns
    assert build("MobileNetV3_DB", "nb-x86").files == a.files
    assert a.files["model.nb"].stat().st_mtime_ns == mtime  # up to date: not rebuilt
    build("MobileNetV3_DB", "nb-x86", force=True)
    assert sha256_of(a.files["model.nb"]) == first  # same inputs, same bytes
    arm = build("MobileNetV3_DB", "nb-arm")
    info = inspect_nb(arm.files["model.nb"])
    assert info.targets == {"arm"} and info.version == "v2.13-rc"
    # load() finds the build, and an x86 one runs on a real image
    m = slimocr_zoo.load("MobileNetV3_DB", format="nb", target="x86")
    assert m.artifact.name == "nb-x86" and m.runtime == "lite"
    assert len(m(SHARED / "data/icdar2015_det/images/img_2.jpg")) >= 5


def test_opt_gets_the_program_without_attributes_only_onednn_cudnn_or_bookkeeping_read(tmp_path):
    """A paddle 1.x export carries oneDNN/cuDNN attributes and paddle's bookkeeping (op_role, ...) on
    every op; opt would copy them into the .nb."""
    from paddle.base.proto import framework_pb2

    from slimocr_zoo.ocr.det import preprocess
    from slimocr_zoo.ocr.image import read_image
    from slimocr_zoo.runtime.libs import paddlelite
    from slimocr_zoo.runtime.opt import convert, lite_program

    det = slimocr_zoo.load("MobileNetV3_DB")
    prog, params = det.program_files()
    lean = tmp_path / "lean.pdmodel"
    assert lite_program(prog, lean) > 500

    def attrs(path):
        d = framework_pb2.ProgramDesc()
        d.ParseFromString(path.read_bytes())
        return [{a.name: a.SerializeToString() for a in op.attrs} for op in d.blocks[0].ops]
    before, after = attrs(prog), attrs(lean)
    assert len(before) == len(after)
    for b, a in zip(before, after):
        assert all(b[k] == v for k, v in a.items())  # what is kept is kept as it was
        gone = set(b) - set(a)
        assert all(k == "is_test" or k.startswith(("use_", "fuse_", "Scale_")) or k in (
            "exhaustive_search", "workspace_size_MB", "force_fp32_output", "mkldnn_data_type",
            "op_callstack", "op_device", "op_namescope", "op_role", "op_role_var", "with_quant_attr") for k in gone), gone
    assert "use_mkldnn" in before[1] and "use_mkldnn" not in after[1]
    assert "op_role" in before[1] and not any(k.startswith("op_") for op in after for k in op)
    raw, slim = convert(prog, params, "x86", tmp_path / "raw"), convert(lean, params, "x86", tmp_path / "slim")
    assert slim.stat().st_size < raw.stat().st_size - 40_000
    assert sha256_of(build("MobileNetV3_DB", "nb-x86").files["model.nb"]) == sha256_of(slim)  # the recipe's
    x = np.ascontiguousarray(preprocess(read_image(SHARED / "data/icdar2015_det/images/img_2.jpg"), det.entry.input)[0])
    lite = paddlelite()
    maps = []
    for nb in (raw, slim):
        cfg = lite.MobileConfig()
        cfg.set_model_from_file(str(nb))
        p = lite.create_paddle_predictor(cfg)
        p.get_input(0).from_numpy(x)
        p.run()
        maps.append(p.get_output(0).numpy().copy())
    assert (maps[0] > 0.3).sum() > 1000 and np.array_equal(maps[0], maps[1])  # the same model


def test_weight_only_int8_is_smaller_and_still_runs():
    f = build("MobileNetV3_DB", "nb-x86").files["model.nb"].stat().st_size
    q = slimocr_zoo.load("MobileNetV3_DB", artifact="nb-x86-int8w")
    assert q.files["model.nb"].stat().st_size < 0.5 * f
    assert len(q(SHARED / "data/icdar2015_det/images/img_2.jpg")) >= 5


def test_synthetic_weights_are_flagged_run_and_refused_by_eval():
    m = build("MobileNetV3_CRNN", "synthetic")
    assert m.artifact.synthetic and read_record(m.artifact)["synthetic"] is True
    sha = sha256_of(m.files["inference.pdiparams"])
    assert 4_000_000 < m.files["inference.pdiparams"].stat().st_size < 4_600_000  # the real ~4.3 MB of weights
    r = m(SHARED / "data/icdar2015_rec/images/word_1.png")  # runs: its text is noise, its shapes are real
    dictionary = m.dependency("dictionary").read_text("utf-8").splitlines()
    assert len(m.stage.charset) == len(dictionary) + 2 and 0 <= r.score <= 1  # blank + keys + space
    x = np.zeros((1, 3, 32, 100), np.float32)
    assert len(m.stage.charset) in {o.shape[-1] for o in m.stage.predictor.run(x)}
    build("MobileNetV3_CRNN", "synthetic", force=True)
    assert sha256_of(m.files["inference.pdiparams"]) == sha  # seeded
    from slimocr_zoo.eval import eval_rec

    with pytest.raises(slimocr_zoo.ZooError, match="synthetic"):
        eval_rec("MobileNetV3_CRNN", SHARED / "data", artifact="synthetic", limit=2)


def test_quant_post_small(tmp_path):
    recipe = {"type": "quant_post", "parent": "ch_ppocr_mobile_v2.0_cls", "parent_artifact": "paddle",
              "algo": "hist", "calibration": {"set": "icdar2015_rec", "start": 1500, "count": 2}}
    _user_manifest(tmp_path, [{"id": "tiny_cls_quant", "task": "cls", "family": "test", "description": "test",
                               "input": slimocr_zoo.info("ch_ppocr_mobile_v2.0_cls").input,
                               "artifacts": [_built("tiny_cls_quant", "paddle", recipe, precision="int8")]}])
    m = slimocr_zoo.load("tiny_cls_quant")  # load() builds on demand
    rec = read_record(m.artifact)
    assert rec["calibration"]["images"] == ["word_1501.png", "word_1502.png"] and len(rec["calibration"]["sha256"]) == 64
    assert [t for t in _op_types(m.files["inference.pdmodel"]) if "quantize" in t]  # simulated int8 ops inserted
    crop = SHARED / "data/icdar2015_rec/images/word_2.png"
    assert m(crop).angle == 0


def test_int8_model_runs_real_int8_close_to_simulated(tmp_path):
    """On a CPU with VNNI an int8 model runs oneDNN int8 kernels, every conv of it (the fused ones too),
    and finds what its simulated int8 run finds."""
    import re

    from slimocr_zoo.ocr.image import read_image
    from slimocr_zoo.runtime.libs import int8_supported
    from slimocr_zoo.settings import native_log

    if not int8_supported():
        pytest.skip("this CPU has no AVX512-VNNI")
    recipe = {"type": "quant_post", "parent": "MobileNetV3_DB", "parent_artifact": "paddle", "algo": "hist",
              "quantizable_op_type": ["conv2d", "depthwise_conv2d"],
              "calibration": {"set": "icdar2015_det", "start": 300, "count": 4, "input": {"limit_side_len": 640}}}
    _user_manifest(tmp_path, [{"id": "tiny_det_quant", "task": "det", "family": "test", "description": "test",
                               "input": slimocr_zoo.info("MobileNetV3_DB").input,
                               "postprocess": slimocr_zoo.info("MobileNetV3_DB").postprocess,
                               "artifacts": [_built("tiny_det_quant", "paddle", recipe, precision="int8")]}])
    real = slimocr_zoo.load("tiny_det_quant", threads=1)
    sim = slimocr_zoo.load("tiny_det_quant", threads=1, precision="int8-simulated")
    assert (real.precision, sim.precision) == ("int8", "int8-simulated")
    img = read_image(SHARED / "data/icdar2015_det/images/img_2.jpg")
    p = real.stage.probability_map(img)
    log = native_log().read_text(errors="replace")  # paddle's int8 pass says what it made int8
    convs = [int(n) for n in re.findall(r"quantized (\d+) fused_conv2d ops(?! with)", log)]
    assert convs and convs[-1] >= 40  # conv2d/depthwise_conv2d alone quantized 8 of 56 (fused before the pass)
    q = sim.stage.probability_map(img)
    assert not np.array_equal(p, q)  # int8 kernels really ran: not the fake-quant fp32 numbers
    assert ((p > 0.3) != (q > 0.3)).mean() < 0.01  # the text mask DB thresholds
    # the same words found: simulated int8's boxes as the truth (ICDAR's IoU 0.5), not a count of boxes
    # (on a Xeon with AMX real int8 found 9 where simulated found 7, the mask within 1%)
    from slimocr_zoo.metrics import det_image_counts, det_metrics

    truth = [{"points": b.tolist()} for b in sim(img).boxes]
    found = list(real(img).boxes)
    agree = det_metrics([det_image_counts(truth, found)])
    assert len(truth) >= 5 and agree["recall"] >= 0.8 and agree["hmean"] >= 0.7, agree


def test_quantized_affine_blocks_fold_into_the_int8_scales(tmp_path):
    """PP-LCNetV3's affine blocks after a quantized conv fold into its per-channel int8 scales and
    its bias (runtime/fold.py, rewrite 3): the same outputs, fewer fp32 ops between int8 kernels."""
    from slimocr_zoo.ocr.det import preprocess
    from slimocr_zoo.ocr.image import read_image
    from slimocr_zoo.runtime.paddle import PaddlePredictor

    recipe = {"type": "quant_post", "parent": "ch_PP-OCRv4_det", "parent_artifact": "paddle", "algo": "hist",
              "quantizable_op_type": ["conv2d", "depthwise_conv2d"],
              "calibration": {"set": "icdar2015_det", "start": 300, "count": 2, "input": {"limit_side_len": 320}}}
    spec = slimocr_zoo.info("ch_PP-OCRv4_det")
    _user_manifest(tmp_path, [{"id": "tiny_v4det_quant", "task": "det", "family": "test", "description": "test",
                               "input": spec.input, "postprocess": spec.postprocess,
                               "artifacts": [_built("tiny_v4det_quant", "paddle", recipe, precision="int8")]}])
    m = slimocr_zoo.load("tiny_v4det_quant", precision="int8-simulated")
    x = preprocess(read_image(SHARED / "data/icdar2015_det/images/img_2.jpg"), spec.input)[0]
    plain = PaddlePredictor(m, 1, precision="int8-simulated", fold=False)
    folded = PaddlePredictor(m, 1, precision="int8-simulated")
    scales, convs = folded.folded
    assert scales >= 50 and convs >= 25  # the pre-activation blocks: into the dequantize scales
    a, b = plain.run(x)[0], folded.run(x)[0]
    assert np.abs(a - b).mean() < 1e-4 and ((a > 0.3) != (b > 0.3)).mean() < 1e-3
    from slimocr_zoo.runtime.libs import int8_supported

    if int8_supported():  # and the folded program through oneDNN's int8 passes: what load() runs
        c = PaddlePredictor(m, 1, precision="int8").run(x)[0]
        assert np.abs(c - a).mean() < 1e-3 and ((a > 0.3) != (c > 0.3)).mean() < 0.01


def test_prune_explicit_and_by_sensitivity(tmp_path):
    explicit = {"type": "prune", "parent": "MobileNetV3_DB", "parent_artifact": "paddle", "criterion": "geometry_median",
                "ratios": {"conv15_expand_weights": 0.5, "conv16_expand_weights": 0.5}}
    sens = {"type": "prune", "parent": "MobileNetV3_DB", "parent_artifact": "paddle", "criterion": "l1_norm",
            "params": ["conv16_expand_weights"], "sensitivity_ratios": [0.3, 0.6], "loss_budget": 0.5,
            "calibration": {"set": "icdar2015_det", "start": 390, "count": 2, "input": {"limit_side_len": 320}}}
    det = slimocr_zoo.info("MobileNetV3_DB")
    _user_manifest(tmp_path, [{"id": f"tiny_prune_{k}", "task": "det", "family": "test", "description": "test",
                               "input": det.input, "postprocess": det.postprocess,
                               "artifacts": [_built(f"tiny_prune_{k}", "paddle", r)]}
                              for k, r in (("explicit", explicit), ("sens", sens))])
    base = slimocr_zoo.load("MobileNetV3_DB").files["params"].stat().st_size
    a = build("tiny_prune_explicit")
    assert a.files["inference.pdiparams"].stat().st_size < base - 100_000
    assert len(a(SHARED / "data/icdar2015_det/images/img_2.jpg")) >= 1
    b = build("tiny_prune_sens")

    assert b.files["inference.pdiparams"].stat().st_size < base  # built: so some ratio was above 0
    assert is_built(b.artifact)


def test_a_joint_budget_holds_for_the_whole_pruned_model(tmp_path):
    """budget joint: the layers' ratios scaled down together until the pruned model loses at most the
    budget on the calibration images (per layer, two layers at their own budget lose more together)."""
    recipe = {"type": "prune", "parent": "MobileNetV3_DB", "parent_artifact": "paddle", "criterion": "geometry_median",
              "params": [f"conv{i}_expand_weights" for i in range(10, 17)],
              "sensitivity_ratios": [0.2, 0.4], "loss_budget": 0.1, "budget": "joint", "bisection_steps": 3,
              "calibration": {"set": "icdar2015_det", "start": 300, "count": 8, "input": {"limit_side_len": 480}}}
    det = slimocr_zoo.info("MobileNetV3_DB")
    files = [{"path": f"built/tiny_joint/paddle/{n}"} for n in ("inference.pdmodel", "inference.pdiparams", "pruning.json")]
    _user_manifest(tmp_path, [{"id": "tiny_joint", "task": "det", "family": "test", "description": "test",
                               "input": det.input, "postprocess": det.postprocess,
                               "artifacts": [_built("tiny_joint", "paddle", recipe, files=files)]}])
    rep = json.loads(build("tiny_joint").files["pruning.json"].read_text())
    joint = rep["joint"]
    assert joint["budget"] == 0.1 and 0 < joint["factor"] < 1 and joint["losses"]["1.0"] > 0.1  # per layer: over
    assert joint["losses"][str(joint["factor"])] <= 0.1  # the chosen factor keeps the whole model within it
    assert all(r <= 0.4 * joint["factor"] + 1e-6 for r in rep["ratios"].values())


def test_interrupted_build_leaves_nothing(monkeypatch, zoo_env):
    from slimocr_zoo.build import opt

    def boom(*a, **k):
        raise KeyboardInterrupt

    monkeypatch.setattr(opt, "build", boom)
    killed = zoo_env / "built" / ".staging-MobileNetV3_DB-nb-arm-99999999"  # a build killed by SIGKILL left it
    other = zoo_env / "built" / ".staging-MobileNetV3_DB-nb-arm-x86-123"  # another artifact's (name with a dash)
    for d in (killed, other):
        d.mkdir(parents=True)
        (d / "model.nb").write_bytes(b"half")
    with pytest.raises(KeyboardInterrupt):
        build("MobileNetV3_DB", "nb-arm")
    assert not killed.exists() and (other / "model.nb").is_file()
    shutil.rmtree(other)
    art = slimocr_zoo.info("MobileNetV3_DB").artifact("nb-arm")
    assert not cache.file_path(art.files[0].path).exists() and read_record(art) is None
    assert not [p for p in (zoo_env / "built").rglob("*") if ".staging" in p.name]


def test_missing_calibration_data_is_clear(monkeypatch, tmp_path):
    monkeypatch.setenv("SLIMOCR_ZOO_DATA", str(tmp_path / "nowhere"))
    with pytest.raises(slimocr_zoo.ZooError, match="SLIMOCR_ZOO_DATA"):
        build("SlimTextDet", "paddle")


def test_two_processes_build_once(zoo_env):
    import os
    import subprocess
    import sys

    code = "from slimocr_zoo.api import build; print(build('MobileNetV3_DB', 'nb-arm').files['model.nb'])"
    procs = [subprocess.Popen([sys.executable, "-c", code], env=os.environ.copy(), stdout=subprocess.PIPE,
                              stderr=subprocess.PIPE, text=True) for _ in range(2)]
    outs = [p.communicate(timeout=300) for p in procs]
    assert [p.returncode for p in procs] == [0, 0], outs
    assert outs[0][0] == outs[1][0]
    assert sum(err.count("building MobileNetV3_DB/nb-arm") for _, err in outs) == 1  # the other waited, then reused it


def test_qat_distills_a_quantized_student(tmp_path, capfd):
    """QAT from the float teacher: at 0 iterations it is the PTQ model on the same images; trained,
    its weights move and its map comes closer to the teacher's; the export is int8 and converts."""
    det = slimocr_zoo.info("MobileNetV3_DB")
    calib = {"set": "icdar2015_det", "start": 390, "count": 4, "input": {"limit_side_len": 320}}
    ops = ["conv2d", "depthwise_conv2d"]
    qat = {"type": "qat", "parent": "MobileNetV3_DB", "parent_artifact": "paddle", "calibration": calib,
           "quantizable_op_type": ops, "crop": 320, "batch": 2, "learning_rate": 5e-5}
    arts = [_built("tiny_qat", "ptq", {"type": "quant_post", "parent": "MobileNetV3_DB", "parent_artifact": "paddle",
                                       "algo": "hist", "quantizable_op_type": ops, "calibration": calib}),
            _built("tiny_qat", "qat0", {**qat, "iterations": 0}),
            _built("tiny_qat", "qat", {**qat, "iterations": 40}),
            _built("tiny_qat", "ptq_skip", {"type": "quant_post", "parent": "MobileNetV3_DB", "parent_artifact": "paddle",
                                            "algo": "hist", "quantizable_op_type": ops, "calibration": calib,
                                            "skip": ["conv2d_40.w_0"]}),
            _built("tiny_qat", "qat0_skip", {**qat, "iterations": 0, "skip": ["conv2d_40.w_0"]})]
    arts.append(_built("tiny_qat", "qat_cos", {**qat, "iterations": 4, "schedule": "cosine"}))
    arts[-1]["files"].append({"path": "built/tiny_qat/qat_cos/qat.json"})  # the training log, installed with it
    arts.append(_built("tiny_qat", "qat_sel", {**qat, "iterations": 4, "select_every": 2}, precision="int8"))
    arts[-1]["files"].append({"path": "built/tiny_qat/qat_sel/qat.json"})
    _user_manifest(tmp_path, [{"id": "tiny_qat", "task": "det", "family": "test", "description": "test",
                               "input": {**det.input, "limit_side_len": 320}, "postprocess": det.postprocess,
                               "artifacts": arts}])
    teacher = slimocr_zoo.load("MobileNetV3_DB")
    ptq, qat0, trained = (build("tiny_qat", name) for name in ("ptq", "qat0", "qat"))
    err = capfd.readouterr().err  # no terminal here: a progress line every tenth, loss and time left
    assert "qat tiny_qat: 4/40 iterations, loss" in err and "qat tiny_qat: 40/40 iterations" in err
    assert "min left" in err
    from slimocr_zoo.build.calibration import calibration_set

    xs = list(calibration_set(calib, ptq.entry).arrays(ptq.entry.input, "det"))  # the calibration images

    def maps(m):
        return [m.stage.predictor.run(x)[0] for x in xs]

    t, p, q0, q = maps(teacher), maps(ptq), maps(qat0), maps(trained)
    assert all(np.array_equal(a, b) for a, b in zip(p, q0))  # 0 iterations: the PTQ model, scales and all
    ps, q0s = maps(build("tiny_qat", "ptq_skip")), maps(build("tiny_qat", "qat0_skip"))
    assert all(np.array_equal(a, b) for a, b in zip(ps, q0s))  # the head's conv left float by both the same way
    assert not all(np.array_equal(a, b) for a, b in zip(ps, p))
    assert trained.files["inference.pdiparams"].read_bytes() != qat0.files["inference.pdiparams"].read_bytes()

    def mse(ms):
        return float(np.mean([np.mean((a - b) ** 2) for a, b in zip(ms, t)]))

    assert mse(q) < mse(q0)  # trained towards the teacher
    log = json.loads(build("tiny_qat", "qat_cos").files["qat.json"].read_text())
    assert 0 < log["last_learning_rate"] < 0.2 * 5e-5  # the cosine rate reached the quantized program run
    # select_every: checkpoints scored in the training program; the export scores what the chosen one did
    sel = build("tiny_qat", "qat_sel")
    log = json.loads(sel.files["qat.json"].read_text())
    assert [c["iteration"] for c in log["checkpoints"]] == [2, 4]
    chosen = max(log["checkpoints"], key=lambda c: (c["hmean"], c["iteration"]))
    assert log["chosen"] == chosen["iteration"] and 0 < chosen["hmean"] <= 1
    from slimocr_zoo.metrics import det_image_counts, det_metrics
    from slimocr_zoo.ocr.det import postprocess, preprocess
    from slimocr_zoo.ocr.image import read_image

    calib_set = calibration_set(calib, ptq.entry)
    simulated = slimocr_zoo.load("tiny_qat", artifact="qat_sel", precision="int8-simulated").stage.predictor
    counts = []
    for path, gt in zip(calib_set.items, calib_set.labels):  # as training scored it: the parent's input spec
        img = read_image(path)
        prob = simulated.run(preprocess(img, teacher.entry.input)[0])[0][0, 0]
        counts.append(det_image_counts(gt, postprocess(prob, img.shape[:2], teacher.entry.postprocess)[0]))
    got = det_metrics(counts)  # Paddle Inference's fused kernels against the executor's: a box at the edge may flip
    assert abs(got["matched"] - chosen["matched"]) <= 1 and abs(got["det"] - chosen["det"]) <= 1
    assert got["gt"] == chosen["gt"]
    ops = _op_types(trained.files["inference.pdmodel"])
    assert {"fake_quantize_moving_average_abs_max", "fake_channel_wise_dequantize_max_abs"} <= ops
    assert len(trained(SHARED / "data/icdar2015_det/images/img_394.jpg")) >= 1  # loads and runs as a model
    from slimocr_zoo.runtime.nbfile import inspect_nb
    from slimocr_zoo.runtime.opt import convert

    nb = inspect_nb(convert(*trained.program_files(), "arm", tmp_path / "qat_arm"))
    assert nb.int8_kernels > 0 and nb.targets == {"arm"}


def test_distill_brings_a_pruned_detector_back_towards_its_teacher(tmp_path):
    det = slimocr_zoo.info("MobileNetV3_DB")
    calib = {"set": "icdar2015_det", "start": 390, "count": 4, "input": {"limit_side_len": 320}}
    pruned = {"type": "prune", "parent": "MobileNetV3_DB", "parent_artifact": "paddle", "criterion": "geometry_median",
              "ratios": {"conv15_expand_weights": 0.5, "conv16_expand_weights": 0.5}}
    distill = {"type": "distill", "parent": "tiny_pruned", "parent_artifact": "paddle", "teacher": "MobileNetV3_DB",
               "calibration": calib, "iterations": 24, "augment": False, "learning_rate": 1e-4, "schedule": "cosine"}
    spec = {**det.input, "limit_side_len": 320}
    arts = {"tiny_pruned": [_built("tiny_pruned", "paddle", pruned)], "tiny_distilled": [
        _built("tiny_distilled", "paddle", distill),
        _built("tiny_distilled", "const", {**distill, "schedule": "constant", "iterations": 2}),
        _built("tiny_distilled", "ema", {**distill, "schedule": "constant", "iterations": 2, "ema": 0.5}),
        _built("tiny_distilled", "bce", {**distill, "loss": "bce"}),
        _built("tiny_distilled", "db", {**distill, "loss": "db"})]}
    for a in arts["tiny_distilled"]:
        a["files"].append({"path": f"built/tiny_distilled/{a['name']}/distill.json"})
    _user_manifest(tmp_path, [{"id": i, "task": "det", "family": "test", "description": "test", "input": spec,
                               "postprocess": det.postprocess, "artifacts": arts[i]}
                              for i, r in (("tiny_pruned", pruned), ("tiny_distilled", distill))])
    student = build("tiny_distilled")
    rec = read_record(student.artifact)
    assert rec["teacher"]["id"] == "MobileNetV3_DB" and rec["parent"]["id"] == "tiny_pruned"
    teacher, before = slimocr_zoo.load("MobileNetV3_DB"), slimocr_zoo.load("tiny_pruned")
    from slimocr_zoo.build.calibration import calibration_set

    xs = list(calibration_set(calib, before.entry).arrays(spec, "det"))  # the images it was tuned on

    def mse(m):
        return float(np.mean([np.mean((m.stage.predictor.run(x)[0] - teacher.stage.predictor.run(x)[0]) ** 2) for x in xs]))

    assert mse(student) < 0.5 * mse(before)  # on the images it was tuned on, as the model sees them
    # loss bce (KL between per-pixel Bernoullis): it too brings the map to the teacher's, its loss falling
    by_kl = build("tiny_distilled", "bce")
    assert mse(by_kl) < 0.5 * mse(before) and by_kl.files["inference.pdiparams"].read_bytes() != \
        student.files["inference.pdiparams"].read_bytes()
    curve = json.loads(by_kl.files["distill.json"].read_text())["loss_by_tenth"]
    assert 0 < curve[-1] < 0.5 * curve[0]
    # loss db (balanced BCE + dice on the teacher's map binarized at 0.3 and dilated): what it trains
    # is the text mask, so the student's mask at the post-process threshold overlaps the teacher's more
    by_db = build("tiny_distilled", "db")

    def mask_iou(m):
        both = [(m.stage.predictor.run(x)[0] > 0.3, teacher.stage.predictor.run(x)[0] > 0.3) for x in xs]
        return sum(int((s & t).sum()) for s, t in both) / sum(int((s | t).sum()) for s, t in both)
    assert mask_iou(by_db) > mask_iou(before) + 0.05
    curve = json.loads(by_db.files["distill.json"].read_text())["loss_by_tenth"]
    assert 0 < curve[-1] < curve[0]
    assert student.files["inference.pdiparams"].stat().st_size == before.files["inference.pdiparams"].stat().st_size
    # cosine: the last step ran at a rate near 0 (the rate reaches the program the executor runs)
    log = json.loads(student.files["distill.json"].read_text())
    assert log["schedule"] == "cosine" and 0 < log["last_learning_rate"] < 0.01 * 1e-4
    const = build("tiny_distilled", "const")
    assert json.loads(const.files["distill.json"].read_text())["last_learning_rate"] == 1e-4
    # ema: the same two steps (same seed), saved as the average of the weights along the way, so
    # nearer the start than the last step's, and not equal to it
    ema = build("tiny_distilled", "ema")
    assert json.loads(ema.files["distill.json"].read_text())["ema"] == 0.5
    w0, w2, avg = (_weights(m) for m in (before, const, ema))
    moved = [n for n in w0 if not np.array_equal(w0[n], w2[n])]
    assert moved and all(not np.array_equal(avg[n], w2[n]) for n in moved)
    dist = lambda a: sum(float(np.abs(a[n] - w0[n]).sum()) for n in moved)  # noqa: E731
    assert 0 < dist(avg) < dist(w2)
    assert not [t for t in _op_types(student.files["inference.pdmodel"]) if "quant" in t]  # float: no quantization


def _weights(m) -> dict:
    """A paddle artifact's persistable float arrays by name."""
    import paddle

    paddle.enable_static()
    try:
        exe, scope = paddle.static.Executor(paddle.CPUPlace()), paddle.static.Scope()
        with paddle.static.scope_guard(scope):
            prog, params = m.program_files()
            program, _, _ = paddle.static.load_inference_model(str(prog.parent), exe, model_filename=prog.name,
                                                               params_filename=params.name)
            return {v.name: np.array(scope.find_var(v.name).get_tensor()) for v in program.list_vars()
                    if v.persistable and v.name not in ("feed", "fetch") and scope.find_var(v.name) is not None}
    finally:
        paddle.disable_static()


def _tiny_cls_quant(tmp_path, **extra):
    recipe = {"type": "quant_post", "parent": "ch_ppocr_mobile_v2.0_cls", "parent_artifact": "paddle",
              "algo": "hist", "calibration": {"set": "icdar2015_rec", "start": 1500, "count": 2}}
    _user_manifest(tmp_path, [{"id": "tiny_cls_quant", "task": "cls", "family": "test", "description": "test",
                               "input": slimocr_zoo.info("ch_ppocr_mobile_v2.0_cls").input,
                               "artifacts": [_built("tiny_cls_quant", "paddle", recipe, precision="int8", **extra)]}])
    return tmp_path / "recipes.json"


def _cli(*argv, **kw):
    import os
    import subprocess
    import sys

    return subprocess.Popen([sys.executable, "-m", "slimocr_zoo", *argv], env=os.environ.copy(), text=True,
                            stdout=subprocess.PIPE, stderr=subprocess.PIPE, **kw)


def test_third_party_output_goes_to_the_build_log(tmp_path, monkeypatch, zoo_env):
    """A build run as a user runs it: PaddleSlim's log lines land in the build's log file, not on the console."""
    monkeypatch.setenv("SLIMOCR_ZOO_MANIFEST", str(_tiny_cls_quant(tmp_path)))
    p = _cli("build", "tiny_cls_quant")
    out, err = p.communicate(timeout=300)
    assert p.returncode == 0, err
    logfile = zoo_env / "built/tiny_cls_quant/paddle.log"
    text = logfile.read_text()
    assert "Collect quantized variable names" in text  # PaddleSlim's post-training quantization speaking
    assert "Collect quantized" not in err + out and "INFO" not in err
    assert "building tiny_cls_quant/paddle" in err  # ours stays on the console
    assert read_record(slimocr_zoo.info("tiny_cls_quant").artifact("paddle"))["log"] == str(logfile)


def test_a_failing_recipe_says_one_line_and_where_its_log_is(tmp_path, monkeypatch, zoo_env):
    from slimocr_zoo.build import quant

    def fails(*a, **k):
        raise RuntimeError("(InvalidArgument) the tensor is odd\n  [Hint: something deep in paddle]")

    _tiny_cls_quant(tmp_path)
    monkeypatch.setattr(quant, "build", fails)
    with pytest.raises(slimocr_zoo.BuildError) as e:
        build("tiny_cls_quant")
    msg = str(e.value)
    assert "quant_post recipe failed: RuntimeError: (InvalidArgument) the tensor is odd" in msg
    assert str(zoo_env / "built/tiny_cls_quant/paddle.log") in msg and "\n" not in msg
    assert read_record(slimocr_zoo.info("tiny_cls_quant").artifact("paddle")) is None


def test_ctrl_c_during_training_leaves_nothing(tmp_path, monkeypatch, zoo_env):
    """Ctrl-C while a qat build trains: exit 130, one line, no staging folder, no file, no record; the
    next build starts clean."""
    import signal
    import time

    det = slimocr_zoo.info("MobileNetV3_DB")
    recipe = {"type": "qat", "parent": "MobileNetV3_DB", "parent_artifact": "paddle", "iterations": 10_000,
              "calibration": {"set": "icdar2015_det", "start": 390, "count": 2, "input": {"limit_side_len": 320}},
              "crop": 256, "batch": 1}
    _user_manifest(tmp_path, [{"id": "tiny_train", "task": "det", "family": "test", "description": "test",
                               "input": {**det.input, "limit_side_len": 320}, "postprocess": det.postprocess,
                               "artifacts": [_built("tiny_train", "paddle", recipe, build_minutes=60)]}])
    monkeypatch.setenv("SLIMOCR_ZOO_MANIFEST", str(tmp_path / "recipes.json"))
    p = _cli("build", "tiny_train")
    deadline = time.time() + 240
    while not list((zoo_env / "built").glob(".staging-tiny_train-*/ptq/q/inference.pdiparams")):
        assert time.time() < deadline and p.poll() is None, p.communicate()
        time.sleep(0.5)
    time.sleep(5)  # post-training quantization done: the student is being trained
    p.send_signal(signal.SIGINT)
    _, rest = p.communicate(timeout=60)
    assert p.returncode == 130 and "Traceback" not in rest, rest
    art = slimocr_zoo.info("tiny_train").artifact("paddle")
    assert read_record(art) is None and not any(cache.file_path(f.path).exists() for f in art.files)
    assert not [q for q in (zoo_env / "built").rglob("*") if ".staging" in q.name]


def test_qat_trains_a_recognizer_towards_its_teacher(tmp_path):
    """The recognizer's loss is per time step (KL): trained on its crops, the int8 student's character
    distributions come closer to the float teacher's than post-training quantization's."""
    calib = {"set": "icdar2015_rec", "start": 1590, "count": 4}
    ops = ["conv2d", "depthwise_conv2d"]
    qat = {"type": "qat", "parent": "ch_PP-OCRv4_rec", "parent_artifact": "paddle", "calibration": calib,
           "quantizable_op_type": ops, "batch": 1, "learning_rate": 5e-5, "augment": False}
    rec = slimocr_zoo.info("ch_PP-OCRv4_rec")
    _user_manifest(tmp_path, [{"id": "tiny_rec_qat", "task": "rec", "family": "test", "description": "test",
                               "input": rec.input, "artifacts": [_built("tiny_rec_qat", n, {**qat, "iterations": i})
                                                                 for n, i in (("qat0", 0), ("qat", 24))]}])
    teacher = slimocr_zoo.load("ch_PP-OCRv4_rec")
    q0, q = build("tiny_rec_qat", "qat0"), build("tiny_rec_qat", "qat")
    from slimocr_zoo.build.calibration import calibration_set

    xs = list(calibration_set(calib, q.entry).arrays(q.entry.input, "rec"))

    def kl(m):
        def one(x):
            p, r = teacher.stage.predictor.run(x)[0], m.stage.predictor.run(x)[0]
            return float(np.mean(np.sum(p * (np.log(p + 1e-7) - np.log(r + 1e-7)), axis=-1)))
        return float(np.mean([one(x) for x in xs]))

    assert kl(q) < kl(q0)
    assert "fake_channel_wise_dequantize_max_abs" in _op_types(q.files["inference.pdmodel"])
    assert q(SHARED / "data/icdar2015_rec/images/word_1591.png").text  # loads and reads
    from slimocr_zoo.runtime.nbfile import inspect_nb
    from slimocr_zoo.runtime.opt import convert

    # saved with the attributes its export had: opt read swish's beta, which clip_extra drops
    assert inspect_nb(convert(*q.program_files(), "arm", tmp_path / "rec_qat_arm")).int8_kernels > 0


def _scalar_first_ops(pdmodel) -> int:
    """elementwise ops whose X is a one-element weight (PP-LCNetV3's ``scale * x``)."""
    from slimocr_zoo.runtime.libs import import_paddle

    paddle = import_paddle()
    paddle.enable_static()
    try:
        prog, _, _ = paddle.static.load_inference_model(str(pdmodel.parent), paddle.static.Executor(paddle.CPUPlace()),
                                                        model_filename=pdmodel.name,
                                                        params_filename=pdmodel.with_suffix(".pdiparams").name)
    finally:
        paddle.disable_static()
    b = prog.global_block()
    return sum(1 for op in b.ops if op.type.startswith("elementwise_") and b.var(op.input("X")[0]).persistable
               and int(np.prod(b.var(op.input("X")[0]).shape)) == 1)


def test_prune_follows_pp_lcnetv3_affine_blocks(tmp_path):
    """PP-OCRv4's learnable affine blocks (a one-element weight times x) stopped PaddleSlim's pruner
    (an AssertionError); with the operands in the order it follows, one ratio prunes a recognizer."""
    rec = slimocr_zoo.info("ch_PP-OCRv4_rec")
    recipe = {"type": "prune", "parent": "ch_PP-OCRv4_rec", "parent_artifact": "paddle", "criterion": "geometry_median",
              "ratio": 0.25, "params": ["conv2d_160.w_0"]}
    tune = {"type": "distill", "parent": "tiny_rec_pruned", "parent_artifact": "paddle", "teacher": "ch_PP-OCRv4_rec",
            "calibration": {"set": "icdar2015_rec", "start": 1590, "count": 2}, "iterations": 2, "batch": 1,
            "augment": False}
    _user_manifest(tmp_path, [{"id": "tiny_rec_pruned", "task": "rec", "family": "test", "description": "test",
                               "input": rec.input, "artifacts": [_built("tiny_rec_pruned", "paddle", recipe),
                                                                 _built("tiny_rec_pruned", "tuned", tune)]}])
    before = slimocr_zoo.load("ch_PP-OCRv4_rec")
    m = build("tiny_rec_pruned")
    # saved with the operands in the parent's order (scale * x), as the pruner found them
    assert _scalar_first_ops(m.files["inference.pdmodel"]) == _scalar_first_ops(before.files["inference.pdmodel"]) > 0
    assert build("tiny_rec_pruned", "tuned")(SHARED / "data/icdar2015_rec/images/word_1591.png").text  # it trains
    assert m.files["inference.pdiparams"].stat().st_size < before.files["inference.pdiparams"].stat().st_size - 2_000
    from slimocr_zoo.ocr.image import read_image
    from slimocr_zoo.ocr.rec import resize_norm

    xs = [resize_norm(read_image(SHARED / f"data/icdar2015_rec/images/word_{i}.png"), rec.input, 320)[None]
          for i in range(1, 9)]
    steps = [(m.stage.predictor.run(x)[0].argmax(-1), before.stage.predictor.run(x)[0].argmax(-1)) for x in xs]
    assert steps[0][0].shape == steps[0][1].shape
    assert np.mean([np.mean(a == b) for a, b in steps]) > 0.9  # one layer a quarter thinner: nearly the same reading


def test_a_rebuilt_parent_makes_its_children_stale(tmp_path):
    """A child built from the old parent is not "built" once the parent changes; loading it builds
    the parent first, then the child from it."""
    det = slimocr_zoo.info("MobileNetV3_DB")

    def manifest(ratio):
        parent = {"type": "prune", "parent": "MobileNetV3_DB", "parent_artifact": "paddle",
                  "criterion": "geometry_median", "ratios": {"conv16_expand_weights": ratio}}
        child = {"type": "opt", "parent": "tiny_parent", "parent_artifact": "paddle", "target": "x86"}
        p = tmp_path / f"m{ratio}.json"
        p.write_text(json.dumps({"schema_version": 1, "models": [
            {"id": "tiny_parent", "task": "det", "family": "test", "description": "test", "input": det.input,
             "postprocess": det.postprocess,
             "artifacts": [_built("tiny_parent", "paddle", parent), _built("tiny_parent", "nb", child, fmt="nb")]}]}))
        slimocr_zoo.unregister_manifest()  # this test's manifest only
        slimocr_zoo.register_manifest(p)
        return slimocr_zoo.info("tiny_parent")

    m = manifest(0.5)
    build("tiny_parent", "nb")
    assert is_built(m.artifact("nb"))
    parent_files = [cache.file_path(f.path) for f in m.artifact("paddle").files]
    kept = [p.read_bytes() for p in parent_files]
    for p in parent_files:
        p.unlink()  # removed from the cache is not changed: the child stays built
    assert is_built(m.artifact("nb")) and not is_built(m.artifact("paddle"))
    for p, data in zip(parent_files, kept):
        p.write_bytes(data)
    m = manifest(0.25)  # the parent's recipe changed: it is not built, so neither is its child
    assert not is_built(m.artifact("paddle")) and not is_built(m.artifact("nb"))
    again = build("tiny_parent", "nb")
    rec = read_record(again.artifact)
    assert rec["parent"]["files"]["inference.pdiparams"] == sha256_of(slimocr_zoo.load("tiny_parent").files["inference.pdiparams"])
    assert is_built(m.artifact("nb")) and is_built(m.artifact("paddle"))


def test_training_keeps_the_models_own_variables(tmp_path):
    """An exported PP-OCRv4 program has its own tmp_0, tmp_1...; the loss built beside it in a new
    process got the same names and overwrote its activations: NaN weights after one step."""
    det = slimocr_zoo.info("ch_PP-OCRv4_det")
    tune = {"type": "distill", "parent": "ch_PP-OCRv4_det", "parent_artifact": "paddle", "teacher": "ch_PP-OCRv4_det",
            "calibration": {"set": "icdar2015_det", "start": 390, "count": 2}, "iterations": 2, "batch": 1, "crop": 320,
            "learning_rate": 1e-4}
    _user_manifest(tmp_path, [{"id": "tiny_v4_tuned", "task": "det", "family": "test", "description": "test",
                               "input": det.input, "postprocess": det.postprocess,
                               "artifacts": [_built("tiny_v4_tuned", "paddle", tune)]}])
    m = build("tiny_v4_tuned")
    from slimocr_zoo.runtime.libs import import_paddle

    paddle = import_paddle()
    paddle.enable_static()
    try:
        scope = paddle.static.Scope()
        with paddle.static.scope_guard(scope):
            prog, _, _ = paddle.static.load_inference_model(str(m.files["inference.pdmodel"].parent / "inference"),
                                                            paddle.static.Executor(paddle.CPUPlace()))
            weights = [np.array(scope.find_var(v.name).get_tensor()) for v in prog.list_vars()
                       if v.persistable and v.name not in ("feed", "fetch")]
    finally:
        paddle.disable_static()
    assert len(weights) > 100 and all(np.isfinite(w).all() for w in weights)
    assert len(m(SHARED / "data/icdar2015_det/images/img_394.jpg")) >= 1  # still finds text


@pytest.mark.parametrize("signame", ["SIGINT", "SIGTERM"])
def test_ctrl_c_swallowed_by_a_library_still_stops_the_build(signame):
    """paddle's quantization pass and PaddleSlim's quant_post wrap their work in a bare ``except:``: a
    KeyboardInterrupt raised there is lost. The build remembers the signal and the next check stops.
    ``kill`` (SIGTERM) stops it the same way, so its staging folder is cleaned up too."""
    import os
    import signal

    from slimocr_zoo.build import interrupt

    sig = getattr(signal, signame)
    before = signal.getsignal(sig)
    with interrupt.watching():
        interrupt.check()  # nothing yet
        try:  # a library's bare except around the moment Ctrl-C comes
            os.kill(os.getpid(), sig)
            for _ in range(1000):  # the handler runs at the next bytecode boundaries
                pass
        except:  # noqa: E722
            pass
        with pytest.raises(KeyboardInterrupt):
            interrupt.check()
    assert signal.getsignal(sig) is before  # the caller's handler back
    with interrupt.watching():
        interrupt.check()  # the next build starts clean



def test_prune_compensate_puts_removed_channels_means_into_the_next_bias(tmp_path):
    """PP-OCRv4's recognizer, 10% of a stage-5 conv removed: PP-LCNetV3's affine blocks give the removed
    channels large means, which the next conv's sum loses (2 of 100 readings kept, measured);
    compensated, most readings stay (76)."""
    calib = {"set": "icdar2015_rec", "start": 1590, "count": 8}
    prune = {"type": "prune", "parent": "ch_PP-OCRv4_rec", "parent_artifact": "paddle",
             "ratios": {"conv2d_180.w_0": 0.1}, "calibration": calib}
    rec = slimocr_zoo.info("ch_PP-OCRv4_rec")
    chain = {**prune, "compensate": True, "ratios": {"conv2d_180.w_0": 0.1, "conv2d_182.w_0": 0.1}}
    arts = [_built("tiny_rec_pruned", "plain", prune), _built("tiny_rec_pruned", "comp", {**prune, "compensate": True}),
            _built("tiny_rec_pruned", "chain", chain)]
    for a in arts[1:]:
        a["files"].append({"path": f"built/tiny_rec_pruned/{a['name']}/pruning.json"})
    _user_manifest(tmp_path, [{"id": "tiny_rec_pruned", "task": "rec", "family": "test", "description": "test",
                               "input": rec.input, "artifacts": arts}])
    teacher = slimocr_zoo.load("ch_PP-OCRv4_rec")
    plain, comp = build("tiny_rec_pruned", "plain"), build("tiny_rec_pruned", "comp")
    assert json.loads(comp.files["pruning.json"].read_text())["compensated"] == {"conv2d_182.w_0": 48}
    crops = [SHARED / f"data/icdar2015_rec/images/word_{i}.png" for i in range(1201, 1241)]  # not calibration

    def kept(m):
        return sum(a.text == b.text for a, b in zip(m(crops), teacher(crops)))

    k_plain, k_comp = kept(plain), kept(comp)
    assert k_plain < 10 and k_comp > 25, (k_plain, k_comp)
    assert plain.files["inference.pdiparams"].stat().st_size == comp.files["inference.pdiparams"].stat().st_size
    # two convs in a row: the second's own outputs are pruned too, and its removed inputs are still found
    chained = build("tiny_rec_pruned", "chain")
    assert json.loads(chained.files["pruning.json"].read_text())["compensated"] == {"conv2d_182.w_0": 48,
                                                                                   "conv2d_184.w_0": 48}
    assert kept(chained) > 15


def test_prune_sensitivity_of_a_recognizer_scores_compensated_trials(tmp_path):
    """A recognizer's sensitivity is the share of calibration crops it still reads as before; with
    compensate each trial is compensated as the final prune is (uncompensated, 10% of conv2d_180
    keeps 2 readings of 100), and every trial's bias changes are put back: the model pruned at the
    ratio found equals one pruned at that ratio given."""
    calib = {"set": "icdar2015_rec", "start": 1590, "count": 8}
    rec = slimocr_zoo.info("ch_PP-OCRv4_rec")
    sens = {"type": "prune", "parent": "ch_PP-OCRv4_rec", "parent_artifact": "paddle", "compensate": True,
            "params": ["conv2d_180.w_0"], "sensitivity_ratios": [0.1], "loss_budget": 0.45, "calibration": calib}
    given = {**{k: v for k, v in sens.items() if k not in ("params", "sensitivity_ratios", "loss_budget")},
             "ratios": {"conv2d_180.w_0": 0.1}}
    arts = [_built("tiny_rec_sens", "sens", sens), _built("tiny_rec_sens", "given", given)]
    for a in arts:
        a["files"].append({"path": f"built/tiny_rec_sens/{a['name']}/pruning.json"})
    _user_manifest(tmp_path, [{"id": "tiny_rec_sens", "task": "rec", "family": "test", "description": "test",
                               "input": rec.input, "artifacts": arts}])
    m = build("tiny_rec_sens", "sens")
    report = json.loads(m.files["pruning.json"].read_text())
    assert report["metric"] == "rec readings unchanged" and report["baseline"] == 1.0
    assert report["sensitivities"]["conv2d_180.w_0"]["0.1"] <= 0.45  # compensated: most readings stay
    assert report["ratios"] == {"conv2d_180.w_0": 0.1}
    g = build("tiny_rec_sens", "given")
    assert m.files["inference.pdiparams"].read_bytes() == g.files["inference.pdiparams"].read_bytes()



def test_distill_features_trains_intermediate_maps_towards_the_teachers(tmp_path):
    """``features``: a pruned recognizer's neck output (whole after pruning) is trained towards the
    teacher's too; a few steps bring it closer. A name not in both programs, or one pruning changed,
    is refused before any training, saying which; so is augment "strong" (detector crops only)."""
    import numpy as np

    from slimocr_zoo.ocr.image import read_image
    from slimocr_zoo.ocr.rec import resize_norm
    from slimocr_zoo.runtime.libs import import_paddle

    rec = slimocr_zoo.info("ch_PP-OCRv4_rec")
    prune = {"type": "prune", "parent": "ch_PP-OCRv4_rec", "parent_artifact": "paddle",
             "ratios": {"conv2d_180.w_0": 0.25}}
    tune = {"type": "distill", "parent": "tiny_rec_feat", "parent_artifact": "pruned", "teacher": "ch_PP-OCRv4_rec",
            "calibration": {"set": "icdar2015_rec", "start": 1590, "count": 2}, "iterations": 4, "batch": 1,
            "augment": False, "learning_rate": 1e-3, "features": ["transpose_51.tmp_0"], "feature_weight": 10}
    arts = [_built("tiny_rec_feat", "pruned", prune), _built("tiny_rec_feat", "tuned", tune),
            _built("tiny_rec_feat", "bad", {**tune, "features": ["no_such_var"]}),
            _built("tiny_rec_feat", "changed", {**tune, "features": ["conv2d_180.w_0"]}),
            _built("tiny_rec_feat", "strong", {**tune, "augment": "strong"})]
    _user_manifest(tmp_path, [{"id": "tiny_rec_feat", "task": "rec", "family": "test", "description": "test",
                               "input": rec.input, "artifacts": arts}])
    for name, words in (("bad", "not a variable of both"), ("changed", "pruning left whole"),
                        ("strong", "for detectors' crops")):
        with pytest.raises(slimocr_zoo.BuildError, match=words):
            build("tiny_rec_feat", name)
    teacher, pruned, tuned = (slimocr_zoo.load("ch_PP-OCRv4_rec"), build("tiny_rec_feat", "pruned"),
                              build("tiny_rec_feat", "tuned"))
    xs = [resize_norm(read_image(SHARED / f"data/icdar2015_rec/images/word_{i}.png"), rec.input, 320)[None]
          for i in (1591, 1592)]  # the calibration crops, as trained (no augmentation)
    paddle = import_paddle()

    def neck(m):
        paddle.enable_static()
        try:
            exe, scope = paddle.static.Executor(paddle.CPUPlace()), paddle.static.Scope()
            with paddle.static.scope_guard(scope):
                prog, feeds, _ = paddle.static.load_inference_model(str(m.files["inference.pdmodel"].with_suffix("")), exe)
                return [exe.run(prog, feed={feeds[0]: x}, fetch_list=["transpose_51.tmp_0"])[0] for x in xs]
        finally:
            paddle.disable_static()

    t, before, after = neck(teacher), neck(pruned), neck(tuned)
    err = [np.mean([np.mean((a - b) ** 2) for a, b in zip(m, t)]) for m in (before, after)]
    assert err[1] < 0.8 * err[0], err


def test_a_rebuild_under_a_new_recipe_leaves_no_output_of_the_old_one(tmp_path):
    """pruning.json of a recipe that listed it is gone after a rebuild by one that does not; a file the
    user put in the folder stays."""
    det = slimocr_zoo.info("MobileNetV3_DB")

    def manifest(ratio, report):
        recipe = {"type": "prune", "parent": "MobileNetV3_DB", "parent_artifact": "paddle",
                  "criterion": "geometry_median", "ratios": {"conv16_expand_weights": ratio}}
        art = _built("tiny_stale", "paddle", recipe)
        if report:
            art["files"].append({"path": "built/tiny_stale/paddle/pruning.json"})
        p = tmp_path / f"m{ratio}.json"
        p.write_text(json.dumps({"schema_version": 1, "models": [
            {"id": "tiny_stale", "task": "det", "family": "test", "description": "test", "input": det.input,
             "postprocess": det.postprocess, "artifacts": [art]}]}))
        slimocr_zoo.unregister_manifest()
        slimocr_zoo.register_manifest(p)

    manifest(0.5, report=True)
    first = build("tiny_stale")
    report = first.files["pruning.json"]
    mine = report.parent / "notes.txt"
    mine.write_text("mine")
    assert report.is_file() and cache.verified_sha256("built/tiny_stale/paddle/pruning.json")
    manifest(0.25, report=False)
    again = build("tiny_stale")
    assert set(again.files) == {"inference.pdmodel", "inference.pdiparams"}
    assert not report.exists() and cache.verified_sha256("built/tiny_stale/paddle/pruning.json") is None
    assert mine.read_text() == "mine"
    assert is_built(again.artifact)


def test_pruning_json_says_what_was_removed(tmp_path):
    """pruning.json records each conv's output channels before and after, and which ones PaddleSlim
    left whole whatever their ratio (the DB neck's convs that feed its concat), so a ratio is never
    read as a removal that did not happen."""
    recipe = {"type": "prune", "parent": "MobileNetV3_DB", "parent_artifact": "paddle", "criterion": "geometry_median",
              "ratios": {"conv16_expand_weights": 0.5, "conv2d_36.w_0": 0.5}}
    det = slimocr_zoo.info("MobileNetV3_DB")
    art = _built("tiny_prune_report", "paddle", recipe)
    art["files"].append({"path": "built/tiny_prune_report/paddle/pruning.json"})
    _user_manifest(tmp_path, [{"id": "tiny_prune_report", "task": "det", "family": "test", "description": "test",
                               "input": det.input, "postprocess": det.postprocess, "artifacts": [art]}])
    doc = json.loads(build("tiny_prune_report").files["pruning.json"].read_text())
    c0, c1 = doc["out_channels"]["conv16_expand_weights"]
    assert c1 == c0 - c0 // 2 or c1 == c0 // 2
    assert doc["out_channels"]["conv2d_36.w_0"] == [24, 24] and doc["left_whole"] == ["conv2d_36.w_0"]


def test_teacher_agreement_is_one_for_the_teacher_itself_and_less_for_another_model(tmp_path):
    """benchmarks/teacher_agreement.py: the teacher against itself agrees 1.0 with no map error; a
    different detector (PP-OCRv4's) agrees less, its map further away."""
    import subprocess
    import sys
    from pathlib import Path

    out = tmp_path / "agreement.json"
    script = Path(__file__).resolve().parents[1] / "benchmarks/teacher_agreement.py"
    common = ["--limit", "3", "--data", str(SHARED / "data"), "--mirror", str(SHARED / "models"), "--out", str(out)]
    r = subprocess.run([sys.executable, str(script), "--models", "MobileNetV3_DB/paddle", "ch_PP-OCRv4_det", *common],
                       capture_output=True, text=True, timeout=600)
    assert r.returncode == 0, r.stderr[-2000:]
    doc = json.loads(out.read_text())
    same, other = doc["rows"]
    assert doc["teacher"]["id"] == "MobileNetV3_DB" and same["model"]["id"] == "MobileNetV3_DB"
    assert same["model"]["artifact"] == "paddle"  # ID/ARTIFACT picks an artifact
    assert same["agreement"]["det"] > 0 and same["agreement"]["hmean"] == 1.0 and same["map_mse"] == 0.0
    assert other["agreement"]["hmean"] < 1.0 and other["map_mse"] > 0
    # the same boxes scored against ICDAR's labels: the teacher's own figure, and another model's differs
    assert same["labels"] == doc["teacher_labels"] and doc["teacher_labels"]["gt"] > 0
    assert other["labels"]["matched"] != same["labels"]["matched"] or other["labels"]["det"] != same["labels"]["det"]
    bad = subprocess.run([sys.executable, str(script), "--models", "MobileNetV3_DB/no-such-artifact", *common],
                         capture_output=True, text=True, timeout=600)
    assert bad.returncode == 2 and "no-such-artifact" in bad.stderr and "Traceback" not in bad.stderr
