"""The finance side of mobility: the admin's financial report and the drivers' daily balance snapshots."""
