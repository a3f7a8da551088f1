"""Shared helpers for the reading-site tests."""

import io

from django.core.files.uploadedfile import SimpleUploadedFile
from PIL import Image


def jpeg_upload(width: int = 1600, height: int = 900, name: str = "hero.jpg") -> SimpleUploadedFile:
    image = Image.new("RGB", (width, height), (120, 80, 40))
    buffer = io.BytesIO()
    image.save(buffer, "JPEG")
    return SimpleUploadedFile(name, buffer.getvalue(), content_type="image/jpeg")
