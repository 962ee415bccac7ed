from laura.bank.accounts.numbers import account_number, check_digit, is_valid_account_number


def test_account_number_has_mod11_check_digit():
    assert check_digit("100001") == "2"
    assert account_number(100001) == "100001-2"
    assert is_valid_account_number("100001-2")
    assert not is_valid_account_number("100001-3")
