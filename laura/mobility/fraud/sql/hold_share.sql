-- mobility_fraud_hold_share(ride, driver, driver cents): called by mobility_ride_paid right after the split
-- credited the driver's share to 2100.<driver>. When the ride has an OPEN flag of a holding rule
-- ('max_fare', 'long_route', raised as the ride completed), the share is held for review instead of made
-- available: a ledger hold, reason 'FRAUD_REVIEW', reference 'fraud-hold:<ride id>', D 2100.<driver> /
-- C 2110 (REPASSES_EM_REVISAO). An admin's resolve voids it (cleared) or posts it (confirmed); a flag the
-- review confirmed before the ride was paid posts the hold at once. No such flag: a no-op.
--
-- The ride's holding flags are locked in id order, as the resolve locks them, so a resolve and a payment
-- of the same ride serialize: whichever comes second sees what the first did.
CREATE OR REPLACE FUNCTION mobility_fraud_hold_share(p_ride uuid, p_driver uuid, p_cents bigint)
RETURNS void LANGUAGE plpgsql VOLATILE AS $$
DECLARE
    v_reference text := 'fraud-hold:' || p_ride::text;
    v_open boolean;
    v_confirmed boolean;
    v_hold uuid;
BEGIN
    IF p_cents <= 0 THEN
        RETURN;
    END IF;
    PERFORM 1 FROM fraud_flags f WHERE f.ride_id = p_ride AND f.rule IN ('max_fare', 'long_route')
     ORDER BY f.id FOR UPDATE;
    SELECT coalesce(bool_or(f.status = 'OPEN'), false), coalesce(bool_or(f.decision = 'confirmed'), false)
      INTO v_open, v_confirmed
      FROM fraud_flags f WHERE f.ride_id = p_ride AND f.rule IN ('max_fare', 'long_route');
    IF NOT (v_open OR v_confirmed) THEN
        RETURN;
    END IF;
    SELECT (r.tx).id INTO v_hold
      FROM ledger_post(uuid7(), v_reference, 'FRAUD_REVIEW', 'Repasse retido para revisão antifraude', 'ride',
                       p_ride::text, NULL, NULL, ARRAY[NULL, NULL]::uuid[],
                       ARRAY[mobility_driver_payable_code(p_driver), '2110'], ARRAY['D', 'C'],
                       ARRAY[p_cents, p_cents], true, NULL) r;
    IF v_confirmed THEN
        PERFORM ledger_post_hold(uuid7(), v_hold, NULL, NULL, v_reference || ':confirmed', 'FRAUD_REVIEW',
                                 'Fraude confirmada: repasse retido', NULL);
    END IF;
END $$;
