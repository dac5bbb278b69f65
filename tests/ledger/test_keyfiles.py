"""Key files and ``raretrace keygen``: participant ids and key ids follow the id rule, a
refused keygen writes nothing, and a derived key id keeps within the id length."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from cli_support import run
from raretrace.domain.errors import ConfigError
from raretrace.domain.ids import MAX_ID_LENGTH, id_problem
from raretrace.ledger import service
from raretrace.ledger.keyfiles import new_key, read_key_file, write_key_file


@pytest.mark.parametrize(
    ("participant", "kid", "flag"),
    [
        ("", None, "--participant"),
        ("   ", None, "--participant"),
        ("lynas\u202emy", None, "--participant"),
        ("lynas-my\n", None, "--participant"),
        ("x" * (MAX_ID_LENGTH + 1), None, "--participant"),
        ("lynas-my", "", "--kid"),
        ("lynas-my", "k\u2066ey", "--kid"),
    ],
)
def test_keygen_refuses_a_bad_id_and_writes_nothing(
    tmp_path: Path, participant: str, kid: str | None, flag: str
) -> None:
    out = tmp_path / "key.json"
    with pytest.raises(ConfigError) as info:
        service.keygen(participant, out, kid=kid)
    assert info.value.message.startswith(f"[bad-id] {flag} ")
    assert "an id is 1-200 characters" in info.value.message
    assert info.value.exit_code == 2
    assert not out.exists()


def test_a_derived_kid_keeps_within_the_id_length() -> None:
    key = new_key("p" * MAX_ID_LENGTH)
    assert len(key.kid) == MAX_ID_LENGTH and id_problem(key.kid) is None
    assert key.kid.startswith("p" * (MAX_ID_LENGTH - 9) + "-")
    assert new_key("lynas-my").kid.startswith("lynas-my-")


@pytest.mark.parametrize("field", ["participant", "kid"])
@pytest.mark.parametrize("value", ["", "lynas\u202emy", 7])
def test_a_key_file_with_a_bad_id_is_not_a_key_file(
    tmp_path: Path, field: str, value: object
) -> None:
    path = tmp_path / "key.json"
    write_key_file(path, new_key("lynas-my"))
    doc = json.loads(path.read_text())
    doc[field] = value
    path.write_text(json.dumps(doc))
    with pytest.raises(ConfigError) as info:
        read_key_file(path)
    assert "is not a raretrace key file" in info.value.message
    assert f"{field!r}" in info.value.message


def test_the_cli_says_it_in_one_line(tmp_path: Path) -> None:
    result = run("keygen", "--participant", "", "--out", "k.json", cwd=tmp_path)
    assert result.returncode == 2, result.stderr
    assert "Traceback" not in result.stderr
    lines = result.stderr.strip().splitlines()
    assert len(lines) == 1 and "[bad-id] --participant '' is empty" in lines[0], lines
    assert not (tmp_path / "k.json").exists()
