"""Natural hazards that drive the coupled city: design storms, rain series and surface ponding."""
