-- bank_deposit_credit(charge, pix, context): the "bank.deposit" purpose's effect (pix_charge_purposes):
-- pix_apply_received calls it right after a deposit's charge became PAID, under the charge's row lock, in
-- the statement that records the received Pix (webhook or reconciliation).
--
-- It books the deposit from the Pix settlement account (bank_pix_clearing_code(), 1200) to the customer's
-- (bank_ledger_code(owner), 2101.<owner>; both in laura/bank/accounts/sql/ledger_codes.sql), under the
-- reference 'deposit:<txid>', so a replay books nothing and returns; else it publishes deposit.received
-- to the owner and appends DEPOSIT_RECEIVED to the audit log (p_context: chain, ip, user_agent,
-- request_id), as laura.bank.deposits.service did in Python. p_pix is the Pix as stored in
-- financial_events.payload (Efí's names: endToEndId, valor, horario...).
CREATE OR REPLACE FUNCTION bank_deposit_credit(p_charge pix_charges, p_pix jsonb, p_context jsonb)
RETURNS void LANGUAGE plpgsql VOLATILE AS $$
DECLARE
    v_e2e_id text := p_pix ->> 'endToEndId';
    v_replayed boolean;
BEGIN
    SELECT r.replayed INTO v_replayed
      FROM ledger_post(uuid7(), 'deposit:' || p_charge.txid, 'PIX_DEPOSIT', 'Depósito via Pix', 'deposit',
                       p_charge.entity_id, v_e2e_id, NULL, ARRAY[NULL, NULL]::uuid[],
                       ARRAY[bank_pix_clearing_code(), bank_ledger_code(p_charge.owner_id)], ARRAY['D', 'C'],
                       ARRAY[p_charge.amount_cents, p_charge.amount_cents]) r;
    IF v_replayed THEN
        RETURN;
    END IF;
    INSERT INTO outbox (type, data, user_ids, roles, occurred_at)
    VALUES ('deposit.received',
            jsonb_build_object('depositId', p_charge.entity_id, 'txid', p_charge.txid, 'e2eId', v_e2e_id,
                               'amount', (p_charge.amount_cents / 100.0)::numeric(20, 2)::text),
            ARRAY[p_charge.owner_id], '{}', now());
    PERFORM audit_append_row((p_context ->> 'chain')::smallint, now(), p_charge.owner_id,
                             'DEPOSIT_RECEIVED', 'deposit', p_charge.entity_id, NULL,
                             jsonb_build_object('txid', p_charge.txid, 'e2eId', v_e2e_id,
                                                'amountCents', p_charge.amount_cents),
                             p_context ->> 'ip', p_context ->> 'user_agent', p_context ->> 'request_id');
END $$;

