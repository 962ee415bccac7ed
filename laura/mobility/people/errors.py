"""Errors of driver onboarding and passenger profiles."""

from __future__ import annotations

from laura.core.errors import Conflict, Forbidden, NotFound


class DriverAlreadyRegistered(Conflict):
    error = "DRIVER_ALREADY_REGISTERED"
    code = "DRV_001"
    message = "This account already has a driver profile"


class DriverCpfInUse(Conflict):
    error = "CPF_IN_USE"
    code = "DRV_002"
    message = "A driver with this CPF is already registered"


class CnhInUse(Conflict):
    error = "CNH_IN_USE"
    code = "DRV_003"
    message = "A driver with this CNH is already registered"


class LicensePlateInUse(Conflict):
    error = "LICENSE_PLATE_IN_USE"
    code = "DRV_004"
    message = "A vehicle with this licence plate is already registered"


class DriverNotFound(NotFound):
    error = "DRIVER_NOT_FOUND"
    code = "DRV_005"
    message = "Driver not found"


class DriverNotApproved(Forbidden):
    error = "DRIVER_NOT_APPROVED"
    code = "DRV_006"
    message = "Only approved drivers can do this"


class DriverNotPending(Conflict):
    error = "DRIVER_NOT_PENDING"
    code = "DRV_007"
    message = "The driver is not awaiting approval"


class DriverProfileRequired(Forbidden):
    error = "DRIVER_PROFILE_REQUIRED"
    code = "DRV_008"
    message = "Register as a driver first (POST /drivers)"


class PassengerProfileRequired(Forbidden):
    error = "PASSENGER_PROFILE_REQUIRED"
    code = "PAS_001"
    message = "Only passenger accounts can do this"
