"""The strict CSV reader, checked against Python's csv module and float()."""

from __future__ import annotations

import csv
import io

import numpy as np
import pytest

from seldkit.errors import InputError
from seldkit.io.csvtable import read_csv_table


def test_values_equal_python_float_parsing(write_file):
    rng = np.random.default_rng(3)
    values = [f"{v:.17g}" for v in rng.normal(size=200) * 10.0 ** rng.integers(-8, 8, size=200)]
    values += ["1e-310", "0.1", "2.675", "-0", "1E5", " 3.5", "7"]
    # Correct rounding where a parser that is not exact differs from float(): more than 17 significant digits,
    # halfway cases (ties to even, and one digit past the tie), the smallest normal neighbourhood, many leading zeros.
    values += [
        "1.700000000000000177635684",
        "9007199254740993",
        "1.00000000000000011102230246251565404236316680908203125",
        "1.00000000000000011102230246251565404236316680908203126",
        "2.2250738585072011e-308",
        "0.00000000000001953",
        "123456789012345678901234567890",
    ]
    text = "id,x\n" + "".join(f"r{i},{v}\n" for i, v in enumerate(values))
    table = read_csv_table(write_file("t.csv", text), text_columns=("id",))
    expected = np.array([float(v) for v in values])
    assert np.array_equal(table.numbers["x"], expected)


def test_pandas_before_3_1_gets_the_round_trip_converter(monkeypatch):
    import pandas

    from seldkit.io.csvtable import exact_float_options

    round_trip = {"float_precision": "round_trip"}
    cases = (("2.2.3", round_trip), ("3.0.0", round_trip), ("3.1.0", {}), ("3.2.0.dev0+12", {}), ("4.0.0", {}))
    for version, expected in cases:
        monkeypatch.setattr(pandas, "__version__", version)
        assert exact_float_options() == expected, version


def test_text_columns_stay_verbatim(write_file):
    ids = ["007", "7", "1e3", "nan", "NA", "", "x;y", "ñandú", "  spaced  "]
    buffer = io.StringIO()
    writer = csv.writer(buffer, lineterminator="\n")
    writer.writerow(["id", "v"])
    for index, value in enumerate(ids):
        writer.writerow([value, index])
    table = read_csv_table(write_file("t.csv", buffer.getvalue()), text_columns=("id",))
    assert list(table.text["id"]) == ids


def test_quoted_fields_with_commas_and_newlines(write_file):
    text = 'id,v\n"a,b",1\n"multi\nline",2\nplain,3\n'
    table = read_csv_table(write_file("t.csv", text), text_columns=("id",))
    assert list(table.text["id"]) == ["a,b", "multi\nline", "plain"]
    assert table.line_of(3) == 5  # the quoted newline shifts the physical line


def test_bom_and_crlf_accepted(write_file):
    table = read_csv_table(write_file("t.csv", b"\xef\xbb\xbfid,v\r\na,1\r\nb,2\r\n"), text_columns=("id",))
    assert table.header == ("id", "v")
    assert table.numbers["v"].tolist() == [1.0, 2.0]


def test_trailing_blank_lines_tolerated(write_file):
    table = read_csv_table(write_file("t.csv", "id,v\na,1\n\n\n"), text_columns=("id",))
    assert table.n_rows == 1


@pytest.mark.parametrize(
    ("content", "row", "column", "fragment"),
    [
        ("", None, None, "empty"),
        ("   \n", None, None, "empty"),
        ("id,v\n", None, None, "no data rows"),
        ("id;v\na;1\n", 0, None, "semicolon"),
        ("id\tv\na\t1\n", 0, None, "tab"),
        ("id,v,v\na,1,2\n", 0, "v", "duplicate"),
        ("id,,v\na,1,2\n", 0, None, "empty name"),
        ("id,v\na,1\nb,2,3\n", 2, None, "3 fields"),
        ("id,v\na,1\nb\n", 2, None, "truncated"),
        ("id,v\na,1\n\nb,2\n", 2, None, "blank line"),
        ("id,v\na,abc\n", 1, "v", "not a number"),
        ("id,v\na,1\nb,\n", 2, "v", "missing value"),
        ("id,v\na,nan\n", 1, "v", "finite"),
        ("id,v\na,1\nb,-inf\n", 2, "v", "finite"),
        ("id,v\na,1e999\n", 1, "v", "finite"),
        ("id,v\na,1_000\n", 1, "v", "not a number"),
        ('id,v\n"a,b",1\n"c",\n', 2, "v", "missing value"),
        ('id,v\n"a,b",1\n"c"\n', 2, None, "truncated"),
    ],
)
def test_bad_tables(write_file, content, row, column, fragment):
    path = write_file("bad.csv", content)
    with pytest.raises(InputError) as caught:
        read_csv_table(path, text_columns=("id",))
    error = caught.value
    assert error.file == str(path)
    assert error.row == row
    assert error.column == column
    assert fragment in str(error)
    assert "\n" not in str(error)


def test_invalid_utf8_names_row_and_column(write_file):
    path = write_file("bad.csv", b"id,v\na,1\nb\xff\xfe,2\n")
    with pytest.raises(InputError) as caught:
        read_csv_table(path, text_columns=("id",))
    assert (caught.value.row, caught.value.column) == (2, "id")
    assert "0xff" in str(caught.value)


def test_missing_file(tmp_path):
    with pytest.raises(InputError, match="file not found"):
        read_csv_table(tmp_path / "absent.csv", text_columns=())
