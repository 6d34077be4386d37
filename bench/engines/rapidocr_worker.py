"""Runs inside bench/.venv-rapidocr (rapidocr-onnxruntime pulls opencv-python, kept out of our env).

Reads image paths from the command line, prints one JSON line per image: {"path": ..., "text": ...}.
"""

import json
import sys

from rapidocr_onnxruntime import RapidOCR

engine = RapidOCR()
for path in sys.argv[1:]:
    result, _ = engine(path)
    text = "".join(item[1] for item in sorted(result or [], key=lambda r: r[0][0][0]))
    print(json.dumps({"path": path, "text": text}), flush=True)
