# The emulated phone's benchmark_bin: Paddle Lite's lite/api/tools/benchmark tool, same flags,
# same printed report, run with the paddlelite Python wheel (x86 kernels). Written out with a
# "#!python" line by tests.phone.benchmark_bin(); not imported by the package.
import os
import re
import subprocess
import sys
import time
from importlib.metadata import version

FLAGS = {"optimized_model_file": "", "input_shape": "", "backend": "", "threads": "1", "power_mode": "0",
         "warmup": "0", "repeats": "1", "run_delay": "0", "result_path": "", "cpu_precision": "fp32"}


def lite_version() -> str:
    m = re.match(r"(\d+)\.(\d+)(?:\.\d+)?(rc)?", version("paddlelite"))
    return f"v{m.group(1)}.{m.group(2)}" + ("-rc" if m.group(3) else "")


def getprop(name: str) -> str:
    try:
        return subprocess.run(["getprop", name], capture_output=True, text=True).stdout
    except OSError:
        return "\n"


def main(argv) -> int:
    prog = os.path.basename(argv[0])
    for arg in argv[1:]:
        if arg in ("--version", "-version"):
            print(f"{prog} version {lite_version()}")
            return 0
        m = re.match(r"--?(\w+)(?:=(.*))?$", arg)
        if not m or m.group(1) not in FLAGS:
            print(f"ERROR: unknown command line flag '{arg.lstrip('-').split('=')[0]}'", file=sys.stderr)
            return 1
        FLAGS[m.group(1)] = m.group(2) if m.group(2) is not None else "true"
    if not FLAGS["optimized_model_file"] or not FLAGS["backend"] or not FLAGS["input_shape"]:
        print("\nNo model path is set!" if not FLAGS["optimized_model_file"] else "Must set --backend option!",
              file=sys.stderr)
        return 0  # the real tool prints its usage and exits 0
    model = FLAGS["optimized_model_file"]
    if not os.path.isfile(model):
        print(f"Mode file[{model}] not exist!", file=sys.stderr, flush=True)
        os.abort()
    import numpy as np
    from paddlelite.lite import MobileConfig, create_paddle_predictor

    shapes = [[int(x) for x in s.split(",")] for s in FLAGS["input_shape"].split(":")]
    t0 = time.perf_counter()
    config = MobileConfig()  # x86: no set_threads / set_power_mode in this binding
    config.set_model_from_file(model)
    predictor = create_paddle_predictor(config)
    init = (time.perf_counter() - t0) * 1e3
    for i, shape in enumerate(shapes):
        predictor.get_input(i).from_numpy(np.ones(shape, np.float32))  # "All 1.f", as the real tool
    times = []
    delay = float(FLAGS["run_delay"])
    for i in range(int(FLAGS["warmup"]) + int(FLAGS["repeats"])):
        t0 = time.perf_counter()
        predictor.run()
        times.append((time.perf_counter() - t0) * 1e3)
        time.sleep(delay)
    first, runs = times[0], times[int(FLAGS["warmup"]):]
    outs = []
    names = predictor.get_output_names()
    for t in range(len(names)):
        o = predictor.get_output(t).numpy().astype(np.float64)
        outs.append(f"\n--- output tensor {t} ---\noutput shape(NCHW): {{{','.join(map(str, o.shape))}}}\n"
                    f"output tensor {t} elem num: {o.size}\noutput tensor {t} mean value: {o.mean():.3g}\n"
                    f"output tensor {t} standard deviation: {o.std(ddof=1) if o.size > 1 else 0:.3g}\n")
    shown = model.replace(os.environ.get("PHONE_ROOT", "\0"), "", 1)  # the path as the phone names it
    ss = ["\n======= Device Info =======\n",
          "Brand: " + getprop("ro.product.vendor.brand"), "Device: " + getprop("ro.product.vendor.device"),
          "Model: " + getprop("ro.product.vendor.model"), "Android Version: " + getprop("ro.build.version.release"),
          "Android API Level: " + getprop("ro.build.version.sdk"),
          "\n======= Model Info =======\n", f"optimized_model_file: {shown}\n", "input_data_path: All 1.f\n",
          f"input_shape: {FLAGS['input_shape']}\n", f"output tensor num: {len(names)}", *outs,
          "\n======= Runtime Info =======\n", f"benchmark_bin version: {lite_version()}\n",
          f"threads: {FLAGS['threads']}\n", f"power_mode: {FLAGS['power_mode']}\n", f"warmup: {FLAGS['warmup']}\n",
          f"repeats: {FLAGS['repeats']}\n", *([f"run_delay(sec): {delay:.3g}\n"] if delay > 0 else []),
          f"result_path: {FLAGS['result_path']}\n",
          "\n======= Backend Info =======\n", f"backend: {FLAGS['backend']}\n",
          f"cpu precision: {FLAGS['cpu_precision']}\n",
          "\n======= Perf Info =======\n", "Time(unit: ms):\n",
          f"init  = {init:<12.3f}\n", f"first = {first:<12.3f}\n", f"min   = {min(runs):<12.3f}\n",
          f"max   = {max(runs):<12.3f}\n", f"avg   = {sum(runs) / len(runs):<12.3f}\n"]
    report = "".join(ss)
    print(report)
    if FLAGS["result_path"]:
        with open(FLAGS["result_path"], "a") as f:
            f.write(report)
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv))
