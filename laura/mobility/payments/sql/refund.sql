-- Money received for a ride that must not pay it again: a refund owed to the payer, booked at once and
-- put in front of a person.

-- mobility_ride_refund_due(charge, pix, context, reason): the Pix (p_pix, as Efí sent it: endToEndId,
-- valor; the charge's amount without one) is booked D PIX_A_RECEBER (1300, the PSP holds the money) /
-- C REEMBOLSOS_A_PAGAR (2300, what we owe back), reason 'RIDE_REFUND_DUE', reference
-- 'ride-refund:<e2eId>', on the ride; and a review item for ops, a `payment_refunds` row OPEN (unique by
-- e2eId), which a person closes once the payer has been refunded. Exactly once per e2eId: the intake
-- calls it only for a Pix it has not recorded before, and a replay of the posting (same reference) writes
-- nothing more. `payment.refund_due` tells the passenger.
-- Reasons (laura.mobility.payments.outcomes.RefundReason):
--   ride_already_paid   the charge was paid, but another intent of the ride had paid it (mobility_ride_paid)
--   charge_not_active   a Pix into a charge already PAID, EXPIRED or CANCELLED (mobility_ride_paid_unapplied)
CREATE OR REPLACE FUNCTION mobility_ride_refund_due(p_charge pix_charges, p_pix jsonb, p_context jsonb, p_reason text)
RETURNS void LANGUAGE plpgsql VOLATILE AS $$
DECLARE
    v_e2e_id text := p_pix ->> 'endToEndId';
    v_cents bigint := coalesce(round((p_pix ->> 'valor')::numeric * 100)::bigint, p_charge.amount_cents);
    v_intent payment_intents;
    v_replayed boolean;
BEGIN
    SELECT * INTO STRICT v_intent FROM payment_intents i WHERE i.id = p_charge.entity_id::uuid;
    SELECT r.replayed INTO v_replayed
      FROM ledger_post(uuid7(), 'ride-refund:' || v_e2e_id, 'RIDE_REFUND_DUE', 'Pagamento a devolver',
                       'ride', v_intent.ride_id::text, v_e2e_id, NULL, ARRAY[NULL, NULL]::uuid[],
                       ARRAY['1300', '2300'], ARRAY['D', 'C'], ARRAY[v_cents, v_cents]) r;
    IF v_replayed THEN
        RETURN;
    END IF;
    INSERT INTO payment_refunds (id, e2e_id, ride_id, intent_id, txid, payer_id, amount_cents, reason)
    VALUES (uuid7(), v_e2e_id, v_intent.ride_id, v_intent.id, p_charge.txid, v_intent.payer_id, v_cents, p_reason);
    INSERT INTO outbox (type, data, user_ids, roles, occurred_at)
    VALUES ('payment.refund_due',
            jsonb_build_object('rideId', v_intent.ride_id, 'intentId', v_intent.id, 'txid', p_charge.txid,
                               'e2eId', v_e2e_id, 'reason', p_reason,
                               'amount', (v_cents / 100.0)::numeric(20, 2)::text),
            ARRAY[v_intent.payer_id], '{}', now());
END $$;

-- mobility_ride_paid_unapplied(charge, pix, context): the "mobility.ride" purpose's unapplied_effect
-- (pix_charge_purposes): pix_apply_received calls it, under the charge's row lock, for a Pix it recorded
-- as flagged / charge_not_active (the charge already PAID, or closed EXPIRED or CANCELLED). The ride is
-- never paid by it: the money is a refund owed.
CREATE OR REPLACE FUNCTION mobility_ride_paid_unapplied(p_charge pix_charges, p_pix jsonb, p_context jsonb)
RETURNS void LANGUAGE sql VOLATILE AS $$
    SELECT mobility_ride_refund_due(p_charge, p_pix, p_context, 'charge_not_active')
$$;
