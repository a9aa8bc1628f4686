"""What the corpus generators (test/requests/gen-corpus.py, test/uwsgi/gen-corpus.py)
share: latin-1 bytes and the writing of the corpus files.

A generator imports it from this folder:
    sys.path.insert(0, os.path.join(HERE, ".."))
"""
import json
import os
import shutil


def b(s):
    return s if isinstance(s, bytes) else s.encode("latin-1")


def latin1(bs):
    return bs.decode("latin-1")


def write_cases(here, kind, ext, cases):
    """Replaces here/kind/ with NAME.ext (the bytes) and NAME.json (the expected
    values, one key per line, in the order given) for each NAME: (data, exp) in
    cases."""
    d = os.path.join(here, kind)
    shutil.rmtree(d, ignore_errors=True)
    os.makedirs(d)
    for name, (data, exp) in sorted(cases.items()):
        with open(os.path.join(d, name + ext), "wb") as f:
            f.write(data)
        with open(os.path.join(d, name + ".json"), "w") as f:
            f.write("{\n" + ",\n".join(
                " %s: %s" % (json.dumps(k), json.dumps(v)) for k, v in exp.items())
                + "\n}\n")


def write_corpus(here, ext, valid, invalid):
    """Writes here/valid/ and here/invalid/ and says how many cases each has."""
    write_cases(here, "valid", ext, valid)
    write_cases(here, "invalid", ext, invalid)
    print("%d valid, %d invalid" % (len(valid), len(invalid)))
