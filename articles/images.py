"""Hero image variants: a few widths of each upload, resized once and kept under MEDIA_ROOT.

Pages ask for variants on every view, so the common path must be cheap: dimensions come
from the database and an existing variant costs one file-exists check, never a decode.
"""

import os
import posixpath
import tempfile
from dataclasses import dataclass

from django.core.files.storage import default_storage
from PIL import Image, ImageOps

# Phone, tablet/column, wide desktop and social cards (Open Graph wants about 1200 pixels).
WIDTHS = (480, 800, 1200)
JPEG_QUALITY = 82
VARIANT_DIR = "variants"


@dataclass(frozen=True)
class Variant:
    name: str
    width: int
    height: int

    @property
    def url(self) -> str:
        return default_storage.url(self.name)


def variant_widths(source_width: int) -> list[int]:
    """The widths to offer: never upscale, so a small original yields one variant at its own size."""
    return sorted({min(width, source_width) for width in WIDTHS})


def variant_height(source_width: int, source_height: int, width: int) -> int:
    return max(1, round(source_height * width / source_width))


def variants_for(source_name: str, source_width: int, source_height: int) -> list[Variant]:
    """The variants an image should have; pure arithmetic, no file access."""
    stem = posixpath.splitext(source_name)[0]
    return [
        Variant(
            name=f"{VARIANT_DIR}/{stem}-{width}w.jpg",
            width=width,
            height=variant_height(source_width, source_height, width),
        )
        for width in variant_widths(source_width)
    ]


def open_upright(path: str) -> Image.Image:
    """Open and apply the EXIF orientation, so phone photos are not sideways."""
    with Image.open(path) as image:
        image = ImageOps.exif_transpose(image)
        image.load()
    if image.mode not in ("RGB", "L"):
        # JPEG has no alpha: flatten transparent parts onto white rather than black.
        rgba = image.convert("RGBA")
        image = Image.new("RGB", rgba.size, "white")
        image.paste(rgba, mask=rgba.getchannel("A"))
    return image


def write_variant(image: Image.Image, variant: Variant) -> None:
    """Resize and write atomically: a concurrent reader never sees half a file."""
    path = default_storage.path(variant.name)
    os.makedirs(os.path.dirname(path), exist_ok=True)
    resized = image.resize((variant.width, variant.height), Image.Resampling.LANCZOS)
    fd, tmp = tempfile.mkstemp(dir=os.path.dirname(path), suffix=".tmp")
    try:
        with os.fdopen(fd, "wb") as handle:
            resized.convert("RGB").save(handle, "JPEG", quality=JPEG_QUALITY, optimize=True, progressive=True)
        os.replace(tmp, path)
    except BaseException:
        if os.path.exists(tmp):
            os.unlink(tmp)
        raise
