"""Device profiles (manifests/devices.json, plus the user's own file) and the adb transport."""
from __future__ import annotations

import json
from importlib.resources import files as _resource_files

from .. import settings
from ..errors import ZooError


def devices() -> dict:
    """Built-in profiles, then those of $SLIMOCR_ZOO_DEVICES (a JSON file of the same shape) over them."""
    data = json.loads((_resource_files("slimocr_zoo.manifests") / "devices.json").read_text("utf-8"))
    out = {d["id"]: d for d in data["devices"]}
    extra = settings.devices_file()
    if extra:
        try:
            more = json.loads(open(extra, encoding="utf-8").read())["devices"]
            out.update({d["id"]: d for d in more})
        except (OSError, ValueError, KeyError, TypeError) as e:
            raise ZooError(f"SLIMOCR_ZOO_DEVICES={extra}: not a devices file ({e}); "
                           f"see manifests/devices.json for the shape") from None
    return out


def device(name: str) -> dict:
    all_ = devices()
    if name not in all_:
        import difflib

        near = difflib.get_close_matches(name, list(all_), n=1)
        raise ZooError(f"unknown device {name!r}" + (f"; did you mean {near[0]}?" if near else "")
                       + f" (known: {', '.join(all_)})")
    return all_[name]
