#!/usr/bin/env python3
"""Checks eForms notices against the eForms SDK's business rules (ISO Schematron).

usage: eforms_check.py SDK_DIR CACHE_DIR NOTICE.xml...

The SDK's `complete-validation.sch` is compiled to XSLT with SchXslt (`schxslt/2.0/
pipeline-for-svrl.xsl`) under Saxon (PyPI `saxonche`) once, cached in CACHE_DIR (a minute or
two on 2 cores), then applied to each notice. Prints one line per failed assert:
`NOTICE<TAB>RULE-ID<TAB>LOCATION<TAB>TEXT`, and a last line `failed-asserts N`. Exits 0 when
no assert failed, 1 otherwise, 2 on a usage or setup error. The XSD check is xmllint's, run by
the tests themselves.
"""
import hashlib
import os
import sys
import xml.etree.ElementTree as ET

SVRL = "{http://purl.oclc.org/dsdl/svrl}"


def main(argv):
    if len(argv) < 4:
        print(__doc__, file=sys.stderr)
        return 2
    sdk, cache, notices = argv[1], argv[2], argv[3:]
    try:
        from saxonche import PySaxonProcessor
    except ImportError:
        print("saxonche is missing: pip install saxonche", file=sys.stderr)
        return 2
    schema = os.path.join(sdk, "schematrons", "static", "complete-validation.sch")
    pipeline = os.path.join(sdk, "schxslt", "2.0", "pipeline-for-svrl.xsl")
    with open(schema, "rb") as f:
        digest = hashlib.sha256(f.read()).hexdigest()[:16]
    os.makedirs(cache, exist_ok=True)
    compiled = os.path.join(cache, f"eforms-complete-validation-{digest}.xsl")
    failed = 0
    with PySaxonProcessor(license=False) as proc:
        xslt = proc.new_xslt30_processor()
        if not os.path.exists(compiled):
            partial = compiled + f".{os.getpid()}.tmp"
            exe = xslt.compile_stylesheet(stylesheet_file=pipeline)
            exe.transform_to_file(source_file=schema, output_file=partial)
            os.replace(partial, compiled)
        exe = xslt.compile_stylesheet(stylesheet_file=compiled)
        for notice in notices:
            report = exe.transform_to_string(source_file=os.path.abspath(notice))
            root = ET.fromstring(report)
            for fa in root.iter(SVRL + "failed-assert"):
                failed += 1
                text = " ".join("".join(fa.itertext()).split())
                print(f"{notice}\t{fa.get('id')}\t{fa.get('location')}\t{text}")
    print(f"failed-asserts {failed}")
    return 0 if failed == 0 else 1


if __name__ == "__main__":
    sys.exit(main(sys.argv))
