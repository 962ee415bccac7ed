"""The payment-system participants directory: shipped data, lookups, and the main banks' codes."""

from __future__ import annotations

import re

import pytest

from laura.bank.participants import Participant, all_participants, find_by_compe, find_by_ispb


def test_the_list_is_loaded_once_and_well_formed() -> None:
    participants = all_participants()
    assert participants is all_participants()
    assert len(participants) >= 40
    assert [p.compe for p in participants] == sorted(p.compe for p in participants)
    assert len({p.compe for p in participants}) == len(participants)
    assert len({p.ispb for p in participants}) == len(participants)
    for p in participants:
        assert re.fullmatch(r"\d{3}", p.compe), p
        assert re.fullmatch(r"\d{8}", p.ispb), p
        assert p.name and p.name == p.name.strip(), p


@pytest.mark.parametrize(
    ("compe", "ispb", "name_part"),
    [
        ("001", "00000000", "Banco do Brasil"),
        ("033", "90400888", "Santander"),
        ("104", "00360305", "Caixa"),
        ("237", "60746948", "Bradesco"),
        ("341", "60701190", "Itaú"),
        ("260", "18236120", "Nu Pagamentos"),
        ("077", "00416968", "Inter"),
        ("336", "31872495", "C6"),
        ("290", "08561701", "PagSeguro"),
        ("323", "10573521", "Mercado Pago"),
        ("380", "22896431", "PicPay"),
        ("748", "01181521", "Sicredi"),
        ("756", "02038232", "Sicoob"),
        ("208", "30306294", "BTG"),
        ("070", "00000208", "BRB"),
        ("197", "16501555", "Stone"),
        ("364", "09089356", "Efí"),
    ],
)
def test_main_participants(compe: str, ispb: str, name_part: str) -> None:
    by_compe = find_by_compe(compe)
    assert by_compe is not None and name_part in by_compe.name
    assert by_compe.ispb == ispb
    assert find_by_ispb(ispb) == by_compe


def test_leading_zeros_are_optional() -> None:
    banco_do_brasil = Participant("001", "00000000", "Banco do Brasil S.A.")
    assert find_by_compe("1") == find_by_compe("001") == banco_do_brasil
    assert find_by_ispb("208") == find_by_compe("70")
    assert find_by_compe(" 341 ") == find_by_compe("341")


# "\uff11" is a fullwidth digit one: a digit to str.isdigit, not a bank code.
@pytest.mark.parametrize("code", ["999", "", "abc", "1234", "-1", "\uff11"])
def test_unknown_or_malformed_compe_is_none(code: str) -> None:
    assert find_by_compe(code) is None


@pytest.mark.parametrize("ispb", ["99999999", "", "123456789", "0000000x"])
def test_unknown_or_malformed_ispb_is_none(ispb: str) -> None:
    assert find_by_ispb(ispb) is None
