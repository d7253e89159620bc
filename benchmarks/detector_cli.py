"""What the detector comparisons share (teacher_agreement.py here, the scripts in experiments/): their
options, and the checks that make a wrong one a single argparse line (exit 2) before minutes of
inference. teacher_agreement.py imports it from its own folder (Python puts a script's folder first on
sys.path); the experiments put this folder on sys.path."""
import argparse
from pathlib import Path

import slimocr_zoo
from slimocr_zoo.data import DET_SET

ROOT = Path(__file__).resolve().parents[1]
SLIM = ["SlimTextDet", "SlimTextDet_pruning", "SlimTextDet_quat_pruning"]


def parser(out: Path, description: str = None) -> argparse.ArgumentParser:
    """--data, --mirror, --teacher, --models and --out (default ``out``)."""
    p = argparse.ArgumentParser(description=description)
    p.add_argument("--data", type=Path, default=ROOT.parent / "shared/data")
    p.add_argument("--mirror", default=str(ROOT.parent / "shared/models"))
    p.add_argument("--teacher", default="MobileNetV3_DB")
    p.add_argument("--models", nargs="+", default=SLIM)
    p.add_argument("--out", type=Path, default=out)
    return p


def labels_file(p: argparse.ArgumentParser, data: Path) -> Path:
    labels = data / DET_SET / "labels.txt"
    if not labels.is_file():
        p.error(f"no ICDAR 2015 det labels at {labels}: give --data the folder that holds {DET_SET}/")
    return labels


def check_detectors(p: argparse.ArgumentParser, ids, artifacts: bool = False) -> None:
    """Each ID names a detector of the manifest; with ``artifacts``, ID/ARTIFACT (one of its artifacts) too."""
    for model_id in ids:
        mid, _, artifact = model_id.partition("/") if artifacts else (model_id, "", "")
        try:
            entry = slimocr_zoo.info(mid)
        except slimocr_zoo.ZooError as e:
            p.error(str(e))
        if entry.task != "det":
            p.error(f"{model_id} is a {entry.task} model: this compares detectors")
        names = [art.name for art in entry.artifacts]
        if artifact and artifact not in names:
            p.error(f"{mid} has no artifact {artifact!r}: give one of {', '.join(names)}")
