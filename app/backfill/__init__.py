"""Label a whole archive on Ray Data: `claimsift backfill` and `claimsift report`."""
