-- The bank's ledger account codes, for bank code written in SQL (bank_deposit_credit). The same codes are
-- laura.bank.accounts.service's DEPOSITS, PIX_CLEARING and ledger_code(); the chart of accounts that opens
-- them is migration 0002's. tests/bank/accounts/test_sql_ledger_codes.py holds the two languages together.

-- bank_ledger_code(user): the ledger account holding a customer's money, '2101.<user id>'.
CREATE OR REPLACE FUNCTION bank_ledger_code(p_user uuid) RETURNS text LANGUAGE sql IMMUTABLE AS $$
    SELECT '2101.' || p_user::text
$$;

-- bank_pix_clearing_code(): the Pix settlement asset account at the PSP, '1200'.
CREATE OR REPLACE FUNCTION bank_pix_clearing_code() RETURNS text LANGUAGE sql IMMUTABLE AS $$
    SELECT '1200'
$$;
