"""House rules for the dbt SQL that sqlfluff cannot express."""

import re
from pathlib import Path

# A division guarded by hand instead of through the ratio() macro (METRICS.md: NULL on a zero
# denominator, a double on every engine). Only ratio() itself may spell it.
BARE_DIVISION = re.compile(r"/\s*nullif\s*\(", re.IGNORECASE)
SQL_FOLDERS = ("models", "macros", "tests/singular", "tests/generic")
RATIO_MACRO = Path("macros/ratio.sql")


def bare_divisions(root: Path = Path()) -> list[str]:
    """`path:line` of every bare `/ nullif(` in the project's SQL, ratio() aside."""
    found = []
    for folder in SQL_FOLDERS:
        for path in sorted((root / folder).rglob("*.sql")):
            if path.relative_to(root) == RATIO_MACRO:
                continue
            for number, line in enumerate(path.read_text(encoding="utf-8").splitlines(), 1):
                if BARE_DIVISION.search(line.split("--")[0]):
                    found.append(f"{path.relative_to(root)}:{number}")
    return found


def test_every_division_goes_through_ratio():
    assert bare_divisions() == []


def test_the_lint_finds_a_bare_division(tmp_path):
    model = tmp_path / "models" / "marts" / "m.sql"
    model.parent.mkdir(parents=True)
    model.write_text("select\n    a / NULLIF(b, 0) as r,  -- a rate\n    c -- x / nullif(d, 0)\nfrom t\n")
    (tmp_path / "macros").mkdir()
    (tmp_path / "macros" / "ratio.sql").write_text("{{ n }} / nullif({{ d }}, 0)\n")
    assert bare_divisions(tmp_path) == ["models/marts/m.sql:2"]
