"""Evidence attachments of progress reports: checked, checksummed, stored by content, served only when intact.

- Allowed: PDF, Word (.docx), Excel (.xlsx), PNG, JPEG, plain text and CSV (UTF-8). A file is accepted only when
  its extension is allowed *and* its content is what the extension says (PDF magic `%PDF-`, a ZIP package with the
  Word or Excel parts, PNG/JPEG magic, text that decodes as UTF-8 without NUL bytes): a renamed executable is
  refused, naming the file and the reason.
- At most `settings.GOVERNANCE_EVIDENCE_MAX_BYTES` bytes (default 20 MB); empty files are refused.
- The SHA-256 is stored; the stored name *is* the checksum (`models.evidence_path`), so identical files share one
  stored copy and a file can never be silently replaced. The same file twice on one report is refused.
- Downloads re-compute the checksum and refuse to serve a file that no longer matches it.
"""

from __future__ import annotations

import hashlib
import io
import os
import zipfile
from collections.abc import Iterable
from dataclasses import dataclass

from django.conf import settings
from django.core.files.base import ContentFile
from django.db import transaction
from django.utils.translation import gettext as _

from tradepilot.governance.common import error
from tradepilot.governance.models import Evidence, ProgressReport, evidence_path
from tradepilot.governance.tracking import TrackingError

DEFAULT_MAX_BYTES = 20 * 1024 * 1024
MAX_FILES = 20
NAME_LIMIT = 200

PDF, DOCX, XLSX = "application/pdf", "application/vnd.openxmlformats-officedocument.wordprocessingml.document", \
    "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet"
CONTENT_TYPES = {
    ".pdf": PDF, ".docx": DOCX, ".xlsx": XLSX, ".png": "image/png", ".jpg": "image/jpeg", ".jpeg": "image/jpeg",
    ".txt": "text/plain", ".csv": "text/csv",
}
ALLOWED_LABEL = "PDF, DOCX, XLSX, PNG, JPEG, TXT, CSV"


def max_bytes() -> int:
    return int(getattr(settings, "GOVERNANCE_EVIDENCE_MAX_BYTES", DEFAULT_MAX_BYTES))


@dataclass
class CheckedFile:
    name: str
    content: bytes
    content_type: str
    sha256: str

    @property
    def size(self) -> int:
        return len(self.content)


def _zip_parts(content: bytes) -> set[str] | None:
    if not content.startswith(b"PK\x03\x04"):
        return None
    try:
        with zipfile.ZipFile(io.BytesIO(content)) as z:
            return set(z.namelist())  # names only: nothing is decompressed
    except (zipfile.BadZipFile, ValueError, OSError):
        return None


def _is_text(content: bytes) -> bool:
    if b"\x00" in content:
        return False
    try:
        content.decode("utf-8-sig")
    except UnicodeDecodeError:
        return False
    return True


def content_problem(ext: str, content: bytes) -> str | None:
    """Why `content` is not a file of type `ext` (None when it is)."""
    if ext == ".pdf":
        return None if content.startswith(b"%PDF-") else _("the content is not a PDF document")
    if ext == ".png":
        return None if content.startswith(b"\x89PNG\r\n\x1a\n") else _("the content is not a PNG image")
    if ext in (".jpg", ".jpeg"):
        return None if content.startswith(b"\xff\xd8\xff") else _("the content is not a JPEG image")
    if ext in (".docx", ".xlsx"):
        parts = _zip_parts(content)
        main = "word/document.xml" if ext == ".docx" else "xl/workbook.xml"
        if parts is None or "[Content_Types].xml" not in parts or main not in parts:
            return (_("the content is not a Word document") if ext == ".docx"
                    else _("the content is not an Excel workbook"))
        return None
    if ext in (".txt", ".csv"):
        return None if _is_text(content) else _("the content is not UTF-8 text")
    return _("files of this type are not accepted (allowed: %(types)s)") % {"types": ALLOWED_LABEL}


def clean_name(name: str) -> str:
    base = os.path.basename(str(name or "").replace("\\", "/")).strip() or "evidence"
    if len(base) > NAME_LIMIT:
        stem, ext = os.path.splitext(base)
        base = stem[: NAME_LIMIT - len(ext)] + ext
    return base


def check_files(uploads: Iterable, existing: Iterable[str] = (), field: str = "files") -> list[CheckedFile]:
    """Read and check every upload; all problems at once (row = the file's position, from 1), else the files.

    `existing` are the checksums already on the report: the same file again is refused."""
    uploads = [u for u in uploads if u is not None]
    errors: list[dict] = []
    if len(uploads) > MAX_FILES:
        raise TrackingError([error(field, len(uploads), "too_many",
                                   _("At most %(n)d files at a time.") % {"n": MAX_FILES})])
    limit = max_bytes()
    seen = set(existing)
    checked = []
    for row, upload in enumerate(uploads, start=1):
        name = clean_name(getattr(upload, "name", ""))

        def refuse(code: str, reason: str, name=name, row=row) -> None:
            errors.append(error(field, name, code, _("%(name)s: %(reason)s.") % {"name": name, "reason": reason}, row))

        ext = os.path.splitext(name)[1].lower()
        if ext not in CONTENT_TYPES:
            refuse("file_type", _("files of this type are not accepted (allowed: %(types)s)") % {"types": ALLOWED_LABEL})
            continue
        size = getattr(upload, "size", None)
        if size is not None and size > limit:
            refuse("too_large", _("the file is larger than %(mb)s MB") % {"mb": _megabytes(limit)})
            continue
        upload.seek(0)
        content = upload.read(limit + 1)
        if len(content) > limit:
            refuse("too_large", _("the file is larger than %(mb)s MB") % {"mb": _megabytes(limit)})
            continue
        if not content:
            refuse("empty", _("the file is empty"))
            continue
        problem = content_problem(ext, content)
        if problem:
            refuse("file_content", problem)
            continue
        digest = hashlib.sha256(content).hexdigest()
        if digest in seen:
            refuse("duplicate", _("the same file is already attached to this report"))
            continue
        seen.add(digest)
        checked.append(CheckedFile(name=name, content=content, content_type=CONTENT_TYPES[ext], sha256=digest))
    if errors:
        raise TrackingError(errors)
    return checked


def _megabytes(n: int) -> str:
    mb = n / (1024 * 1024)
    return f"{mb:.0f}" if mb >= 1 else f"{mb:.2f}"


def store(report: ProgressReport, checked: CheckedFile, user) -> Evidence:
    """The evidence row, with its content stored once under its checksum (shared by identical files)."""
    evidence = Evidence(progress=report, original_name=checked.name, content_type=checked.content_type,
                        size=checked.size, sha256=checked.sha256, uploaded_by=user)
    path = evidence_path(evidence, checked.name)
    storage = Evidence._meta.get_field("file").storage
    if storage.exists(path) and _digest_of(storage, path) != checked.sha256:
        storage.delete(path)  # a damaged copy is replaced by the verified upload
    if not storage.exists(path):
        saved = storage.save(path, ContentFile(checked.content))
        if saved != path:  # another request stored the same content meanwhile: keep one copy
            storage.delete(saved)
    evidence.file.name = path
    evidence.save()
    return evidence


def _digest_of(storage, path: str) -> str:
    h = hashlib.sha256()
    with storage.open(path, "rb") as f:
        for chunk in iter(lambda: f.read(1 << 20), b""):
            h.update(chunk)
    return h.hexdigest()


class ChecksumMismatch(Exception):
    pass


def read_verified(evidence: Evidence) -> bytes:
    """The stored bytes, after checking they still hash to the recorded SHA-256.

    FileNotFoundError when the stored copy is gone, ChecksumMismatch when it changed."""
    storage = evidence.file.storage
    if not evidence.file.name or not storage.exists(evidence.file.name):
        raise FileNotFoundError(evidence.file.name)
    with storage.open(evidence.file.name, "rb") as f:
        content = f.read()
    if hashlib.sha256(content).hexdigest() != evidence.sha256:
        raise ChecksumMismatch(evidence.file.name)
    return content


def discard_unreferenced(path: str, sha256: str) -> None:
    """After a commit that deleted an evidence row: remove the stored copy unless another row still uses it."""
    storage = Evidence._meta.get_field("file").storage

    def drop():
        if not Evidence.objects.filter(sha256=sha256).exists() and storage.exists(path):
            storage.delete(path)

    transaction.on_commit(drop)
