"""Every error a user can meet, each with a message that says what to do."""


class ZooError(Exception):
    """Base class: the message is the whole story, printed as one line by the CLI."""

    exit_code = 1  # the CLI's exit status for it; 2: the user's input is wrong (as argparse's own errors)


class UsageError(ZooError):
    """A command-line value that cannot be used; the message says what to give instead."""

    exit_code = 2


class ManifestError(ZooError):
    """A manifest file is unreadable, malformed, or inconsistent with the others. A manifest is input
    (the user's own, or one they point SLIMOCR_ZOO_MANIFEST at): the message names the file and field."""

    exit_code = 2


class UnknownModelError(ZooError, KeyError):
    exit_code = 2

    def __init__(self, name, suggestions=()):
        self.name = name
        self.suggestions = list(suggestions)
        hint = f"; did you mean {', '.join(self.suggestions)}?" if self.suggestions else ""
        super().__init__(f"unknown model {name!r}{hint} (`slimocr-zoo list` shows every id)")

    def __str__(self):  # KeyError would repr() the message
        return self.args[0]


class UnknownConfigError(ZooError, KeyError):
    """A configuration that is neither a row of the manifests nor a DET+REC pair of model ids."""

    exit_code = 2

    def __str__(self):  # KeyError would repr() the message
        return self.args[0]


class NoArtifactError(ZooError):
    """No artifact of the model matches what was asked, or it must be built by a recipe."""


class DownloadError(ZooError):
    """Every source of a file failed; the message lists each source and why."""


class ChecksumError(DownloadError):
    def __init__(self, url, expected, actual, what="sha256"):
        self.url, self.expected, self.actual = url, expected, actual
        super().__init__(f"{what} mismatch for {url}: expected {expected}, got {actual}")


class OfflineError(DownloadError):
    """Offline mode and the file is not in the cache."""


class UnpinnedError(DownloadError):
    """An upstream file whose hash nobody has pinned, and pinned files were required."""


class UnsafeArchiveError(ZooError):
    """An archive member would land outside the target directory or is not a plain file."""


class RuntimeUnavailableError(ZooError):
    """A runtime is missing, or refuses a model it would run wrongly (ARM .nb on x86, int8 .nb, ...)."""


class ImageError(ZooError):
    """An input that is not a readable image."""


class BuildError(ZooError):
    """A recipe could not run; the message says which step and why."""


class LongBuildError(BuildError):
    """Building what was asked would take longer than ``load()`` starts by itself; the message says
    how long and the command that builds it."""


class DeviceError(ZooError):
    """A phone cannot be used as asked (adb missing, no device, offline, full, ...)."""


class BenchFailed(ZooError):
    """The benchmark tool failed on one model (crash, bad exit, unreadable output): recorded, the run goes on."""


class BenchOutputError(BenchFailed):
    """benchmark_bin's report could not be read."""


def guarded(fn, interrupted: str = "interrupted") -> int:
    """Run a command's body; a ZooError or Ctrl-C becomes one line on stderr and an exit code."""
    import sys

    try:
        return fn()
    except ZooError as e:
        print(f"error: {e}", file=sys.stderr)
        return e.exit_code
    except BrokenPipeError:  # `... | head`
        sys.stderr.close()
        return 0
    except KeyboardInterrupt:
        print(interrupted, file=sys.stderr)
        return 130
