-- The mobility ledger codes (laura.mobility.payments.service.driver_payable_code; the chart of accounts
-- that opens the platform's is migration 0002's, a driver's is opened as their first ride completes).

-- mobility_driver_payable_code(driver): what the platform owes a driver, '2100.<driver id>' (MOTORISTAS_A_PAGAR).
CREATE OR REPLACE FUNCTION mobility_driver_payable_code(p_driver uuid) RETURNS text LANGUAGE sql IMMUTABLE AS $$
    SELECT '2100.' || p_driver::text
$$;

-- mobility_ride_paid(charge, pix, context): the "mobility.ride" purpose's effect (pix_charge_purposes):
-- pix_apply_received calls it right after a ride's charge became PAID (amount checked), under the
-- charge's row lock, in the statement that records the received Pix (webhook or reconciliation).
--
-- The ride is locked before the intent, as every writer of intents does (laura.mobility.payments), so a
-- payment and a new charge being recorded for the same ride cannot deadlock.
--
-- A ride already paid (another of its intents CONFIRMED: say an old charge still payable at the PSP was
-- paid after a new one) is not paid again: the money is a refund owed (mobility_ride_refund_due,
-- sql/refund.sql, reason 'ride_already_paid') and the intent, if it still waited, EXPIRED. A replay for
-- an intent already CONFIRMED books nothing.
--
-- Otherwise flow 2 of the mobility spec: the fare from PIX_A_RECEBER (1300) to RECEITA_CORRIDAS (4100), reference
-- 'ride:<txid>' (a replay books nothing and returns), then RECEITA_CORRIDAS to COMISSAO_PLATAFORMA (4200,
-- the intent's commission) and to the driver's MOTORISTAS_A_PAGAR account (the rest), reference
-- 'ride-split:<txid>'; a zero share leaves its line out. A share the anti-fraud rules flagged is then held
-- for review (mobility_fraud_hold_share, laura/mobility/fraud/sql/hold_share.sql). The intent becomes
-- CONFIRMED (even one that had expired: its charge was still payable, and paid) and the ride's other
-- PENDING intent, if any, EXPIRED; the ride, if it waits for this payment, PAID (versioned and audited as
-- RIDE_STATUS_CHANGED); payment.confirmed goes to the passenger and the driver. p_pix is the Pix as Efí
-- sent it (endToEndId, valor, horario...).
CREATE OR REPLACE FUNCTION mobility_ride_paid(p_charge pix_charges, p_pix jsonb, p_context jsonb)
RETURNS void LANGUAGE plpgsql VOLATILE AS $$
DECLARE
    v_e2e_id text := p_pix ->> 'endToEndId';
    v_intent payment_intents;
    v_ride rides;
    v_driver_user uuid;
    v_driver_cents bigint;
    v_codes text[] := ARRAY['4100'];
    v_directions text[] := ARRAY['D'];
    v_amounts bigint[] := ARRAY[p_charge.amount_cents];
    v_replayed boolean;
BEGIN
    PERFORM 1 FROM rides r
     WHERE r.id = (SELECT i.ride_id FROM payment_intents i WHERE i.id = p_charge.entity_id::uuid)
       FOR NO KEY UPDATE;
    SELECT * INTO STRICT v_intent FROM payment_intents i WHERE i.id = p_charge.entity_id::uuid FOR UPDATE;
    IF v_intent.status = 'CONFIRMED' THEN
        RETURN;
    END IF;
    IF EXISTS (SELECT 1 FROM payment_intents i
                WHERE i.ride_id = v_intent.ride_id AND i.purpose = v_intent.purpose AND i.status = 'CONFIRMED') THEN
        PERFORM mobility_ride_refund_due(p_charge, p_pix, p_context, 'ride_already_paid');
        UPDATE payment_intents i SET status = 'EXPIRED' WHERE i.id = v_intent.id AND i.status = 'PENDING';
        RETURN;
    END IF;
    SELECT r.replayed INTO v_replayed
      FROM ledger_post(uuid7(), 'ride:' || p_charge.txid, 'RIDE_PAYMENT', 'Corrida paga via Pix', 'ride',
                       v_intent.ride_id::text, v_e2e_id, NULL, ARRAY[NULL, NULL]::uuid[], ARRAY['1300', '4100'],
                       ARRAY['D', 'C'], ARRAY[p_charge.amount_cents, p_charge.amount_cents]) r;
    IF v_replayed THEN
        RETURN;
    END IF;
    v_driver_cents := p_charge.amount_cents - v_intent.commission_cents;
    IF v_intent.commission_cents > 0 THEN
        v_codes := v_codes || '4200'::text;
        v_directions := v_directions || 'C'::text;
        v_amounts := v_amounts || v_intent.commission_cents;
    END IF;
    IF v_driver_cents > 0 THEN
        v_codes := v_codes || mobility_driver_payable_code(v_intent.driver_id);
        v_directions := v_directions || 'C'::text;
        v_amounts := v_amounts || v_driver_cents;
    END IF;
    PERFORM ledger_post(uuid7(), 'ride-split:' || p_charge.txid, 'RIDE_COMMISSION', 'Comissão e repasse da corrida',
                        'ride', v_intent.ride_id::text, v_e2e_id, NULL,
                        array_fill(NULL::uuid, ARRAY[cardinality(v_codes)]), v_codes, v_directions, v_amounts);
    PERFORM mobility_fraud_hold_share(v_intent.ride_id, v_intent.driver_id, v_driver_cents);
    UPDATE payment_intents i SET status = 'CONFIRMED', confirmed_at = now() WHERE i.id = v_intent.id;
    UPDATE payment_intents i SET status = 'EXPIRED'
     WHERE i.ride_id = v_intent.ride_id AND i.purpose = v_intent.purpose AND i.status = 'PENDING';
    UPDATE rides r SET status = 'PAID', paid_at = now(), status_changed_at = now(), version = r.version + 1
     WHERE r.id = v_intent.ride_id AND r.status = 'PAYMENT_PENDING'
    RETURNING * INTO v_ride;
    IF FOUND THEN
        PERFORM audit_append_row((p_context ->> 'chain')::smallint, now(), NULL, 'RIDE_STATUS_CHANGED', 'ride',
                                 v_ride.id::text, jsonb_build_object('status', 'PAYMENT_PENDING'),
                                 jsonb_build_object('status', 'PAID', 'version', v_ride.version,
                                                    'actor', 'system', 'reason', 'payment_confirmed'),
                                 p_context ->> 'ip', p_context ->> 'user_agent', p_context ->> 'request_id');
    END IF;
    SELECT d.user_id INTO v_driver_user FROM drivers d WHERE d.id = v_intent.driver_id;
    INSERT INTO outbox (type, data, user_ids, roles, occurred_at)
    VALUES ('payment.confirmed',
            jsonb_build_object('rideId', v_intent.ride_id, 'intentId', v_intent.id, 'txid', p_charge.txid,
                               'e2eId', v_e2e_id,
                               'amount', (p_charge.amount_cents / 100.0)::numeric(20, 2)::text),
            ARRAY[v_intent.payer_id, v_driver_user], '{}', now());
END $$;
