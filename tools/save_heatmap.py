"""Write the committed heatmap of the canonical sequence (PNG + CSV of its weights) to lab/figures/.

    python tools/save_heatmap.py      (make notebooks runs it first)

tests/test_committed_heatmap.py fails when the committed weights no longer match the code.
"""

import pathlib

from minimodel.attention.plot import save_canonical_heatmap

if __name__ == "__main__":
    for path in save_canonical_heatmap(pathlib.Path(__file__).resolve().parent.parent / "lab" / "figures"):
        print(f"wrote {path}")
