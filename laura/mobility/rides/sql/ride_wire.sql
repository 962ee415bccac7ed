-- ride_wire(ride): the ride as the API shows it (laura.mobility.rides.schemas.RideOut, camelCase, times
-- with Z), with its driver and the driver's active vehicle. ride_accept writes it as the winner's answer
-- and event, so it must equal GET /rides/{id}'s body: tests/mobility/rides/test_sql_ride_wire.py holds the
-- two together. NULL for an unknown ride.
CREATE OR REPLACE FUNCTION ride_wire(p_ride uuid) RETURNS jsonb LANGUAGE sql STABLE AS $$
    SELECT jsonb_build_object(
        'id', r.id, 'status', r.status, 'category', r.category, 'passengerId', r.passenger_id,
        'driverId', r.driver_id,
        'driver', CASE WHEN d.id IS NOT NULL THEN jsonb_build_object(
            'id', d.id, 'fullName', d.full_name, 'averageRating', d.average_rating,
            'vehicle', CASE WHEN v.id IS NOT NULL THEN jsonb_build_object(
                'licensePlate', v.license_plate, 'brand', v.brand, 'model', v.model,
                'category', v.category) END) END,
        'pickup', jsonb_build_object('lat', r.pickup_lat, 'lon', r.pickup_lon),
        'dropoff', jsonb_build_object('lat', r.dropoff_lat, 'lon', r.dropoff_lon),
        'estimatedDistanceMeters', r.estimated_distance_m, 'estimatedDurationSeconds', r.estimated_duration_s,
        'surgeMultiplier', r.surge_multiplier, 'estimatedFare', r.estimated_fare, 'finalFare', r.final_fare,
        'finalDistanceMeters', r.final_distance_m, 'finalDurationSeconds', r.final_duration_s,
        'fareBasis', r.fare_basis, 'cancellationFee', r.cancellation_fee, 'canceledBy', r.canceled_by,
        'cancelReason', r.cancel_reason, 'expireReason', r.expire_reason, 'dispatchRound', r.dispatch_round,
        'version', r.version,
        'createdAt', replace(iso_utc(r.created_at), '+00:00', 'Z'),
        'acceptedAt', replace(iso_utc(r.accepted_at), '+00:00', 'Z'),
        'arrivedAt', replace(iso_utc(r.arrived_at), '+00:00', 'Z'),
        'startedAt', replace(iso_utc(r.started_at), '+00:00', 'Z'),
        'completedAt', replace(iso_utc(r.completed_at), '+00:00', 'Z'),
        'canceledAt', replace(iso_utc(r.canceled_at), '+00:00', 'Z'),
        'expiredAt', replace(iso_utc(r.expired_at), '+00:00', 'Z'))
      FROM rides r
      LEFT JOIN drivers d ON d.id = r.driver_id
      LEFT JOIN vehicles v ON v.driver_id = d.id AND v.status = 'active'
     WHERE r.id = p_ride
$$;

