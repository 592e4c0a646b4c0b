"""Load a Meridian model file, turning every way a file can be bad into one clear sentence.

Pickle runs code when loaded, so only files inside MODEL_DIR (which the operator controls) are
ever unpickled.
"""

from __future__ import annotations

import pickle
import warnings
import zipfile
from pathlib import Path

from mmm_dash.builder.discovery import MODEL_SUFFIXES, PICKLE_SUFFIXES, ModelFileError, is_inside
from mmm_dash.builder.keys import meridian_version

__all__ = ["ModelFileError", "check_inside", "load_model"]


def check_inside(path: Path, model_dir: Path) -> Path:
    if not is_inside(path, model_dir):
        raise ModelFileError(
            f"{path.name}: only model files inside MODEL_DIR ({model_dir}) are loaded, "
            "because unpickling a file can run code."
        )
    return path.resolve()


def _looks_like_pickle(head: bytes) -> bool:
    # Protocol 2+ pickles start with PROTO (0x80); joblib may compress with zlib/gzip/xz/lz4.
    return (
        head[:1] == b"\x80"
        or head[:2] in (b"x\x9c", b"x\x01", b"x\xda", b"\x1f\x8b")
        or head[:4]
        in (
            b"\xfd7zX",
            b"\x04\x22\x4d\x18",
        )
    )


def _unpickle(path: Path):
    import joblib

    try:
        with warnings.catch_warnings():
            warnings.simplefilter("ignore")
            return joblib.load(path)
    except (EOFError, pickle.UnpicklingError, ValueError, zipfile.BadZipFile) as exc:
        text = str(exc).lower()
        if isinstance(exc, EOFError) or "truncated" in text or "ran out of input" in text or "eof" in text:
            raise ModelFileError(
                f"{path.name} is truncated: the file ends early (was the copy interrupted?)."
            ) from None
        raise ModelFileError(f"{path.name} is not a readable pickle ({exc}).") from None
    except (ModuleNotFoundError, ImportError, AttributeError, TypeError) as exc:
        raise ModelFileError(
            f"{path.name} was saved with an incompatible Meridian version (this app runs google-meridian "
            f"{meridian_version()}; loading failed with: {exc})."
        ) from None
    except MemoryError:
        raise ModelFileError(f"{path.name} is too large to load into memory.") from None


def _load_proto(path: Path):
    try:
        from meridian.schema.serde import meridian_serde
    except ImportError:
        raise ModelFileError(
            f"{path.name}: reading .binpb/.txtpb files needs the 'mmm-proto-schema' package "
            "(pip install 'google-meridian[schema]')."
        ) from None
    try:
        with warnings.catch_warnings():
            warnings.simplefilter("ignore")
            return meridian_serde.load_meridian(str(path))
    except Exception as exc:  # the proto parser raises many types; all mean "not a usable model"
        raise ModelFileError(
            f"{path.name} is not a readable Meridian proto file ({type(exc).__name__}: {exc})."
        ) from None


def load_model(path: Path, model_dir: Path):
    """The Meridian model in `path`, or ModelFileError saying why not."""
    path = check_inside(path, model_dir)
    if not path.exists():
        raise ModelFileError(f"Model file not found: {path.name} is not in {model_dir}.")
    if not path.is_file():
        raise ModelFileError(f"{path.name} is not a file.")
    if path.stat().st_size == 0:
        raise ModelFileError(f"{path.name} is empty (0 bytes).")
    suffix = path.suffix.lower()
    if suffix not in MODEL_SUFFIXES:
        raise ModelFileError(f"{path.name}: unsupported file type; use one of {', '.join(MODEL_SUFFIXES)}.")
    if suffix in PICKLE_SUFFIXES:
        with path.open("rb") as fh:
            head = fh.read(8)
        if not _looks_like_pickle(head):
            raise ModelFileError(f"{path.name} is not a pickle file (it does not start like one).")
        mmm = _unpickle(path)
    else:
        mmm = _load_proto(path)

    from meridian.model.model import Meridian

    if not isinstance(mmm, Meridian):
        raise ModelFileError(
            f"{path.name} holds a {type(mmm).__module__}.{type(mmm).__qualname__}, not a Meridian model."
        )
    try:
        groups = mmm.inference_data.groups()
    except Exception:
        raise ModelFileError(f"{path.name} was saved with an incompatible Meridian version.") from None
    if "posterior" not in groups:
        raise ModelFileError(
            f"{path.name} is a Meridian model without posterior samples: run sample_posterior() before saving it."
        )
    return mmm
