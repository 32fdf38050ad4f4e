"""docmaker - small, valid attachment files made in memory for tests and benchmarks.

Shared by tests/it/t84-attachment-text.sh and bench/attach.sh, which import it with
sys.path. Only the standard library: a ZIP container (zipfile) for Office Open XML and
OpenDocument, and a PDF written object by object with its cross-reference offsets counted,
so that poppler's pdftotext reads it without repair.
"""
import io
import zipfile


def zipped(parts):
    """A ZIP (deflated) of (name, text) parts, in order."""
    b = io.BytesIO()
    with zipfile.ZipFile(b, "w", zipfile.ZIP_DEFLATED) as z:
        for name, text in parts:
            z.writestr(name, text)
    return b.getvalue()


def pdf(pages, size=12, width=80):
    """A PDF in Helvetica with one page per item of pages. An item is a list of lines, or a
    string cut into lines of width characters. Catalog 1, pages 2, font 3, then a content
    stream and a page object for each page."""
    objs = ["<< /Type /Catalog /Pages 2 0 R >>", None,
            "<< /Type /Font /Subtype /Type1 /BaseFont /Helvetica >>"]
    kids = []
    for page in pages:
        lines = page if isinstance(page, list) else \
            [page[i:i + width] for i in range(0, len(page), width)]
        body = "BT /F1 %d Tf 50 750 Td %d TL " % (size, size + 2) + \
            " ".join("(%s) '" % line for line in lines) + " ET"
        objs.append("<< /Length %d >>\nstream\n%s\nendstream" % (len(body), body))
        objs.append("<< /Type /Page /Parent 2 0 R /MediaBox [0 0 612 792] /Contents %d 0 R "
                    "/Resources << /Font << /F1 3 0 R >> >> >>" % len(objs))
        kids.append(len(objs))
    objs[1] = "<< /Type /Pages /Kids [%s] /Count %d >>" % (
        " ".join("%d 0 R" % k for k in kids), len(kids))
    b = bytearray(b"%PDF-1.4\n")
    offs = []
    for i, o in enumerate(objs, 1):
        offs.append(len(b))
        b += b"%d 0 obj\n%s\nendobj\n" % (i, o.encode())
    x = len(b)
    b += b"xref\n0 %d\n0000000000 65535 f \n" % (len(objs) + 1)
    for o in offs:
        b += b"%010d 00000 n \n" % o
    b += b"trailer\n<< /Size %d /Root 1 0 R >>\nstartxref\n%d\n%%%%EOF\n" % (len(objs) + 1, x)
    return bytes(b)
